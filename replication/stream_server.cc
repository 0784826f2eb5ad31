#include "replication/stream_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "common/thread_name.h"
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
  // The store's answer to the thread's current Wait(): its number and outcome.
  uint64_t wait_id ABSL_GUARDED_BY(mu) = 0;
  uint64_t answered_id ABSL_GUARDED_BY(mu) = 0;
  bool reached ABSL_GUARDED_BY(mu) = false;
  // Set by the fan-out when it returns the stream to its thread.
  bool handed_back ABSL_GUARDED_BY(mu) = false;
  Handback back ABSL_GUARDED_BY(mu);
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
  if (server->fanout_enabled()) {  // before any stream can join
    server->heartbeat_thread_ = std::thread([s = server.get()] {
      SetCurrentThreadName("kv-stream-hb");
      s->HeartbeatLoop();
    });
    server->commit_listener_ =
        store->AddCommitListener([s = server.get()](uint64_t applied) { s->OnCommit(applied); });
  }
  server->accept_thread_ = std::thread([s = server.get()] {
    SetCurrentThreadName("kv-stream-acc");
    s->AcceptLoop();
  });
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
      wake_fd_(wake_fd),
      fanout_cursor_(store, /*metrics=*/nullptr, options_, 0) {}

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
  listener_.Close();  // connecting now is refused, not left unanswered
  if (commit_listener_ != 0) store_->RemoveCommitListener(commit_listener_);
  {
    absl::MutexLock lock(&fanout_mu_);
    fanout_stopped_ = true;
    while (!members_.empty()) {
      HandBackLocked(0, Handback{0, "", absl::UnavailableError("node is shutting down")});
    }
  }
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  for (const std::shared_ptr<Connection>& c : connections) {
    {
      absl::MutexLock lock(&c->mu);
      c->stopped = true;
    }
    shutdown(c->socket.fd(), SHUT_RDWR);  // wakes a thread blocked on the socket
  }
  for (const std::shared_ptr<Connection>& c : connections) c->thread.join();
}

bool StreamServer::fanout_enabled() const {
  return options_.fanout && options_.min_batch_interval == absl::ZeroDuration();
}

int StreamServer::fanout_members() {
  absl::MutexLock lock(&fanout_mu_);
  return static_cast<int>(members_.size());
}

uint64_t StreamServer::fanout_next() {
  absl::MutexLock lock(&fanout_mu_);
  return fanout_cursor_.next();
}

int StreamServer::open_streams() {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const std::shared_ptr<Connection>& c : connections_) n += c->done.load() ? 0 : 1;
  return n;
}

void StreamServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno != EINTR) {
        KV_LOG_ERROR("replication stream server: poll: ", std::strerror(errno));
        absl::SleepFor(absl::Milliseconds(100));
      }
      continue;
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
    // A subscriber that vanished without a reset (its host is gone) fails the
    // connection once sent data stays unacknowledged this long, instead of after the
    // kernel's ~15 minutes of retransmissions.
    const unsigned int user_timeout_ms =
        static_cast<unsigned int>(absl::ToInt64Milliseconds(options_.send_timeout));
    (void)setsockopt(accepted->fd(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
                     sizeof(user_timeout_ms));
    auto c = std::make_shared<Connection>(std::move(*accepted));
    connections_.push_back(c);
    c->thread = std::thread([this, c] {
      SetCurrentThreadName("kv-stream-out");
      Serve(c);
    });
  }
}

void StreamServer::Serve(const std::shared_ptr<Connection>& c) {
  metrics_->AddSubscribers(1);
  absl::Status status = Stream(c);
  // Say why the stream ends, unless the connection itself failed.
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded &&
      status.code() != absl::StatusCode::kDataLoss) {
    std::string out;
    AppendEndFrame(status, &out);
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
  if (frame.type != FrameType::kSubscribe || !ParseFrame(frame, &request)) {
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
      // Caught up: the fan-out serves the stream until it has to hand it back (a due
      // heartbeat goes out first: the fan-out's clock starts when the stream joins).
      if (Handback back; !heartbeat_due && fanout_enabled() && JoinFanout(c, cursor.next(), &back)) {
        KV_RETURN_IF_ERROR(back.status);
        if (!back.unsent.empty()) {
          KV_RETURN_IF_ERROR(
              SendAll(fd, back.unsent, absl::InfiniteFuture(), options_.send_timeout));
        }
        cursor.Seek(back.next);
        heartbeat_due = false;
        continue;
      }
      if (!heartbeat_due) {
        heartbeat_due = !AwaitCommit(c, cursor);
        continue;
      }
      // Nothing new for a heartbeat: send the empty, stamped batch.
    }
    heartbeat_due = false;
    out.clear();
    AppendFrame(FrameType::kBatch, batch, &out);
    KV_RETURN_IF_ERROR(SendAll(fd, out, absl::InfiniteFuture(), options_.send_timeout));
  }
}

bool StreamServer::AwaitCommit(const std::shared_ptr<Connection>& w, const LogCursor& cursor) {
  if (!Wait(w, cursor.next(), absl::Now() + options_.heartbeat)) return false;
  // A commit soon after the last batch waits out the rest of the batch interval (or a
  // full batch).
  if (std::optional<absl::Time> until = cursor.LingerUntil(absl::Now())) {
    Wait(w, cursor.LingerTarget(), *until);
  }
  return true;
}

bool StreamServer::Wait(const std::shared_ptr<Connection>& w, uint64_t seq, absl::Time deadline) {
  if (store_->AppliedSequence() >= seq) return true;
  uint64_t id;
  {
    absl::MutexLock lock(&w->mu);
    if (w->stopped) return false;
    id = ++w->wait_id;
  }
  // The store may answer after this wait gave up (Stop): the id tells answers apart.
  store_->WaitForSequence(seq, deadline, [w, id](bool reached) {
    absl::MutexLock lock(&w->mu);
    if (w->wait_id != id) return;
    w->answered_id = id;
    w->reached = reached;
  });
  absl::MutexLock lock(&w->mu);
  auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu) {
    return w->answered_id == id || w->stopped;
  };
  // The store answers at the deadline; the margin only guards against a lost answer.
  w->mu.AwaitWithDeadline(absl::Condition(&answered), deadline + absl::Seconds(1));
  return w->answered_id == id && w->reached;
}

bool StreamServer::JoinFanout(const std::shared_ptr<Connection>& c, uint64_t next,
                              Handback* back) {
  {
    absl::MutexLock lock(&fanout_mu_);
    if (fanout_stopped_) return false;
    if (members_.empty()) {
      fanout_cursor_.Seek(next);  // an idle fan-out moves to its first member
      fanout_last_send_ = absl::Now();  // the stream has just sent (or heartbeated)
    } else if (fanout_cursor_.next() != next) {
      return false;
    }
    {
      absl::MutexLock c_lock(&c->mu);
      c->handed_back = false;
    }
    members_.push_back(c);
    // A commit that landed since the stream last looked called OnCommit before there was
    // a member to send to.
    if (store_->AppliedSequence() >= next) ShipPendingLocked(/*heartbeat=*/false);
  }
  absl::MutexLock lock(&c->mu);
  auto returned = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu) {
    return c->handed_back || c->stopped;
  };
  c->mu.Await(absl::Condition(&returned));
  if (!c->handed_back) {  // Stop(): it hands every member back itself
    back->status = absl::UnavailableError("node is shutting down");
    return true;
  }
  *back = std::move(c->back);
  return true;
}

void StreamServer::HandBackLocked(size_t i, Handback back) {
  std::shared_ptr<Connection> c = std::move(members_[i]);
  members_.erase(members_.begin() + static_cast<ptrdiff_t>(i));
  absl::MutexLock lock(&c->mu);
  c->back = std::move(back);
  c->handed_back = true;
}

void StreamServer::OnCommit(uint64_t applied) {
  absl::MutexLock lock(&fanout_mu_);
  if (fanout_stopped_ || members_.empty() || applied < fanout_cursor_.next()) return;
  ShipPendingLocked(/*heartbeat=*/false);
}

void StreamServer::HeartbeatLoop() {
  absl::MutexLock lock(&fanout_mu_);
  while (!fanout_stopped_) {
    if (members_.empty()) {
      auto busy = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fanout_mu_) {
        return fanout_stopped_ || !members_.empty();
      };
      fanout_mu_.Await(absl::Condition(&busy));
      continue;
    }
    const absl::Time due = fanout_last_send_ + options_.heartbeat;
    if (absl::Now() < due) {
      fanout_mu_.AwaitWithDeadline(absl::Condition(&fanout_stopped_), due);
      continue;
    }
    ShipPendingLocked(/*heartbeat=*/true);
  }
}

void StreamServer::ShipPendingLocked(bool heartbeat) {
  while (!members_.empty()) {
    const uint64_t next = fanout_cursor_.next();
    absl::StatusOr<bool> filled = fanout_cursor_.Fill(&fanout_batch_);
    // A read error, or a chunked value (each stream sends it, and its continuations,
    // itself): every member goes back to its thread at `next`.
    if (!filled.ok() || fanout_cursor_.in_value()) {
      const absl::Status status = filled.ok() ? absl::OkStatus() : filled.status();
      while (!members_.empty()) HandBackLocked(0, Handback{next, "", status});
      fanout_cursor_.Seek(next);
      return;
    }
    if (!*filled && !heartbeat) return;  // nothing new
    fanout_frame_.clear();
    AppendFrame(FrameType::kBatch, fanout_batch_, &fanout_frame_);
    ShipLocked(fanout_frame_, fanout_batch_.entries_size(), fanout_cursor_.filled_bytes());
    // Done after a heartbeat, or once nothing committed is left to read.
    if (!*filled || store_->AppliedSequence() < fanout_cursor_.next()) return;
    heartbeat = false;
  }
}

void StreamServer::ShipLocked(const std::string& frame, int64_t entries, int64_t bytes) {
  const uint64_t next_after = fanout_cursor_.next();
  for (size_t i = 0; i < members_.size();) {
    const int fd = members_[i]->socket.fd();
    size_t sent = 0;
    absl::Status failed;
    while (sent < frame.size()) {
      const ssize_t n =
          send(fd, frame.data() + sent, frame.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;  // the socket is full: the stream's own thread waits for it
      } else {
        failed = absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
        break;
      }
    }
    if (!failed.ok()) {
      HandBackLocked(i, Handback{next_after, "", failed});
      continue;
    }
    metrics_->AddPushed(entries, bytes);
    if (sent < frame.size()) {
      HandBackLocked(i, Handback{next_after, frame.substr(sent), absl::OkStatus()});
      continue;
    }
    ++i;
  }
  fanout_last_send_ = absl::Now();
  ++fanout_batches_;
}

}  // namespace kv::replication
