#include "replication/stream_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "replication/stream_frame.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

struct StreamServer::Connection {
  explicit Connection(Socket s) : socket(std::move(s)) {}

  const Socket socket;  // closed when the last reference goes, after the thread ended
  std::thread thread;
  std::atomic<bool> done{false};  // the thread has finished

  absl::Mutex mu;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  // The store's answer to the current Wait(): its number and outcome.
  uint64_t wait_id ABSL_GUARDED_BY(mu) = 0;
  uint64_t answered_id ABSL_GUARDED_BY(mu) = 0;
  bool reached ABSL_GUARDED_BY(mu) = false;
};

absl::StatusOr<std::unique_ptr<StreamServer>> StreamServer::Start(
    storage::Store* store, ReplicationMetrics* metrics, ReplicationServiceOptions options,
    const std::string& host, int port) {
  int bound = 0;
  KV_ASSIGN_OR_RETURN(Socket listener, ListenTcp(host, port, &bound));
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  std::unique_ptr<StreamServer> server(
      new StreamServer(store, metrics, options, std::move(listener), bound, wake_fd));
  server->accept_thread_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

StreamServer::StreamServer(storage::Store* store, ReplicationMetrics* metrics,
                           ReplicationServiceOptions options, Socket listener, int port,
                           int wake_fd)
    : store_(store),
      metrics_(metrics),
      options_(options),
      listener_(std::move(listener)),
      port_(port),
      wake_fd_(wake_fd) {}

StreamServer::~StreamServer() {
  Stop();
  close(wake_fd_);
}

void StreamServer::Stop() {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    connections.swap(connections_);
  }
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (accept_thread_.joinable()) accept_thread_.join();
  for (const std::shared_ptr<Connection>& c : connections) {
    {
      absl::MutexLock lock(&c->mu);
      c->stopped = true;
    }
    shutdown(c->socket.fd(), SHUT_RDWR);  // wakes a thread blocked on the socket
  }
  for (const std::shared_ptr<Connection>& c : connections) c->thread.join();
}

void StreamServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      KV_LOG_ERROR("replication stream server: poll: ", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // Stop()
    absl::StatusOr<Socket> accepted = AcceptTcp(listener_);
    if (!accepted.ok()) {
      KV_LOG_WARNING("replication stream server: ", accepted.status().ToString());
      absl::SleepFor(absl::Milliseconds(100));  // e.g. out of descriptors: do not spin
      continue;
    }
    if (!accepted->valid()) continue;
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    // Reap finished connections.
    std::erase_if(connections_, [](const std::shared_ptr<Connection>& c) {
      if (!c->done.load()) return false;
      c->thread.join();
      return true;
    });
    if (connections_.size() >= kMaxStreams) {
      KV_LOG_WARNING("replication stream server: ", kMaxStreams,
                     " streams open; refusing another");
      continue;  // closing the socket refuses it
    }
    ++streams_opened_;
    auto c = std::make_shared<Connection>(std::move(*accepted));
    connections_.push_back(c);
    c->thread = std::thread([this, c] { Serve(c); });
  }
}

void StreamServer::Serve(const std::shared_ptr<Connection>& c) {
  metrics_->AddSubscribers(1);
  absl::Status status = Stream(c);
  // Say why the stream ends, unless the connection itself failed.
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded &&
      status.code() != absl::StatusCode::kDataLoss) {
    v1::StreamEnd end;
    end.set_code(static_cast<int>(status.code()));
    end.set_message(std::string(status.message()));
    std::string out;
    AppendFrame(FrameType::kEnd, end, &out);
    (void)SendAll(c->socket.fd(), out, absl::Now() + absl::Seconds(1));
  }
  shutdown(c->socket.fd(), SHUT_RDWR);
  metrics_->AddSubscribers(-1);
  c->done = true;
}

absl::Status StreamServer::Stream(const std::shared_ptr<Connection>& c) {
  const int fd = c->socket.fd();
  FrameReader reader(fd);
  const absl::Time handshake_deadline = absl::Now() + kHandshakeTimeout;
  KV_ASSIGN_OR_RETURN(std::string magic,
                      reader.ReadExactly(kStreamMagic.size(), handshake_deadline));
  if (magic != kStreamMagic) {
    return absl::DataLossError("not a replication stream (bad magic)");
  }
  KV_ASSIGN_OR_RETURN(Frame frame, reader.Next(handshake_deadline));
  v1::SubscribeRequest request;
  if (frame.type != FrameType::kSubscribe ||
      !request.ParseFromArray(frame.payload.data(), static_cast<int>(frame.payload.size()))) {
    return absl::InvalidArgumentError("replication stream: the first frame is not a subscription");
  }
  KV_ASSIGN_OR_RETURN(uint64_t first, FirstToSend(*store_, request));
  LogCursor cursor(store_, metrics_, options_, first);
  v1::LogBatch batch;
  std::string out;
  bool heartbeat_due = false;
  for (;;) {
    {
      absl::MutexLock lock(&c->mu);
      if (c->stopped) return absl::UnavailableError("node is shutting down");
    }
    KV_ASSIGN_OR_RETURN(bool filled, cursor.Fill(&batch));
    if (!filled) {
      if (!request.follow()) return absl::OkStatus();  // caught up
      if (!heartbeat_due) {
        // Wait for the next commit or the heartbeat; after a commit that came soon after
        // the last batch, for the rest of the batch interval (or a full batch).
        const bool reached = Wait(c, cursor.next(), absl::Now() + options_.heartbeat);
        heartbeat_due = !reached;
        if (reached) {
          if (std::optional<absl::Time> until = cursor.LingerUntil(absl::Now())) {
            Wait(c, cursor.LingerTarget(), *until);
          }
        }
        continue;
      }
      // Nothing new for a heartbeat: send the empty, stamped batch.
    }
    heartbeat_due = false;
    out.clear();
    AppendFrame(FrameType::kBatch, batch, &out);
    KV_RETURN_IF_ERROR(SendAll(fd, out, absl::Now() + options_.send_timeout));
  }
}

bool StreamServer::Wait(const std::shared_ptr<Connection>& c, uint64_t seq, absl::Time deadline) {
  if (store_->AppliedSequence() >= seq) return true;
  uint64_t id;
  {
    absl::MutexLock lock(&c->mu);
    id = ++c->wait_id;
  }
  // The store may answer after this wait gave up (Stop): the id tells answers apart.
  store_->WaitForSequence(seq, deadline, [c, id](bool reached) {
    absl::MutexLock lock(&c->mu);
    if (c->wait_id != id) return;
    c->answered_id = id;
    c->reached = reached;
  });
  absl::MutexLock lock(&c->mu);
  auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu) {
    return c->answered_id == id || c->stopped;
  };
  // The store answers at the deadline; the margin only guards against a lost answer.
  c->mu.AwaitWithDeadline(absl::Condition(&answered), deadline + absl::Seconds(1));
  return c->answered_id == id && c->reached;
}

}  // namespace kv::replication
