#include "node/resp_server.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/thread_name.h"
#include "node/resp_protocol.h"

namespace kv::node {

namespace {

constexpr size_t kReadBytes = 64 * 1024;  // read(2) size per wake-up
// After accept fails (out of descriptors), how long the listener rests.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// How often connections are checked for clients that stopped taking replies.
constexpr absl::Duration kStallCheck = absl::Seconds(1);
// A connection's buffers shrink back to nothing once drained if they grew above this.
constexpr size_t kKeepBufferBytes = 64 * 1024;
// Descriptors left for the rest of the node (LevelDB's files, gRPC, replication).
constexpr int kReservedDescriptors = 512;

// Adds `fd` to `epoll_fd`'s interest list for input.
bool WatchInput(int epoll_fd, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

}  // namespace

struct RespServer::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : connections(prometheus::BuildGauge()
                        .Name("kv_resp_connections")
                        .Help("Connections open on the RESP port")
                        .Register(registry)
                        .Add({})),
        refused(prometheus::BuildCounter()
                    .Name("kv_resp_connections_refused_total")
                    .Help("Connections to the RESP port closed at once: over max_connections")
                    .Register(registry)
                    .Add({})),
        closed_by_server(prometheus::BuildCounter()
                             .Name("kv_resp_connections_dropped_total")
                             .Help("RESP connections the node closed: protocol error or a "
                                   "client that stopped taking replies")
                             .Register(registry)
                             .Add({})) {}
  prometheus::Gauge& connections;
  prometheus::Counter& refused;
  prometheus::Counter& closed_by_server;
};

// Writes' replies on their way from the committer thread to the event loop.
struct RespServer::Completions {
  struct Reply {
    int fd;
    uint64_t connection_id;  // the fd may have been reused by a newer connection
    std::string bytes;
  };

  explicit Completions(int wake) : wake_fd(wake) {}

  // A write is handed to the committer; its Push must follow.
  void Started() {
    absl::MutexLock lock(&mu);
    ++in_flight;
  }
  // Queues a write's reply and wakes the loop (once per batch).
  void Push(Reply reply) {
    absl::MutexLock lock(&mu);
    --in_flight;
    if (closed) return;
    const bool wake = replies.empty();
    replies.push_back(std::move(reply));
    if (wake) {
      const uint64_t one = 1;
      (void)!write(wake_fd, &one, sizeof(one));
    }
  }
  std::vector<Reply> Take() {
    absl::MutexLock lock(&mu);
    return std::exchange(replies, {});
  }
  // Waits until every write started has been answered (their callbacks use the server's
  // RespCommands); after this no reply is queued and wake_fd is not written.
  void Close() {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &in_flight));
    closed = true;
    replies.clear();
  }

  const int wake_fd;
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  std::vector<Reply> replies ABSL_GUARDED_BY(mu);
};

struct RespServer::Connection {
  Socket socket;
  uint64_t id = 0;
  std::string input;         // received, not yet parsed
  std::string output;        // replies not yet sent, from output_pos on
  size_t output_pos = 0;
  bool close_after_output = false;  // QUIT or a protocol error: close once sent
  bool protocol_error = false;
  bool held = false;          // in held_: waits for the server-wide bound
  bool input_closed = false;  // the client shut its sending side down
  bool write_in_flight = false;  // a write's reply is still to come
  uint32_t interest = 0;            // what epoll watches for now
  absl::Time last_send_progress = absl::InfinitePast();
  std::vector<absl::string_view> args;  // reused per command

  size_t pending() const { return output.size() - output_pos; }
  // Whether its commands may run now: no QUIT or error yet, not held by the server-wide
  // bound, no write's reply outstanding, and its own unsent replies within `bound`.
  bool CanRun(size_t bound) const {
    return !close_after_output && !held && !write_in_flight && pending() <= bound;
  }
};

absl::StatusOr<std::unique_ptr<RespServer>> RespServer::Start(const ServiceContext* context,
                                                              prometheus::Registry* registry,
                                                              const std::string& address,
                                                              RespServerOptions options) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(address, &host, &port); !s.ok()) return s;
  int bound = 0;
  absl::StatusOr<Socket> listener = ListenTcp(host, port, &bound);
  if (!listener.ok()) return listener.status();
  Socket epoll(epoll_create1(EPOLL_CLOEXEC));
  Socket wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll.valid() || !wake.valid()) {
    return absl::InternalError(absl::StrCat("RESP port: ", std::strerror(errno)));
  }
  for (int fd : {listener->fd(), wake.fd()}) {
    if (!WatchInput(epoll.fd(), fd)) {
      return absl::InternalError(absl::StrCat("RESP port: epoll_ctl: ", std::strerror(errno)));
    }
  }
  // Each connection is a descriptor, from the same table as LevelDB's files: keep some
  // for the rest of the node.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    const int room = static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 30)) -
                     kReservedDescriptors;
    if (options.max_connections > room) {
      KV_LOG_WARNING("RESP port: at most ", std::max(room, 1), " connections, not ",
                     options.max_connections, ": the open-file limit is ", files.rlim_cur);
      options.max_connections = std::max(room, 1);
    }
  }
  std::unique_ptr<RespServer> server(new RespServer(context, registry, host,
                                                    std::move(*listener), bound, epoll.Release(),
                                                    wake.Release(), options));
  server->thread_ = std::thread([s = server.get()] {
    SetCurrentThreadName("kv-resp");
    s->Loop();
  });
  return server;
}

RespServer::RespServer(const ServiceContext* context, prometheus::Registry* registry,
                       std::string host, Socket listener, int port, int epoll_fd, int wake_fd,
                       RespServerOptions options)
    : commands_(context, registry),
      host_(std::move(host)),
      listener_(std::move(listener)),
      port_(port),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      completions_(std::make_shared<Completions>(wake_fd)),
      options_(options),
      metrics_(registry != nullptr ? std::make_unique<Metrics>(*registry) : nullptr) {}

RespServer::~RespServer() {
  Stop();
  close(epoll_fd_);
  close(wake_fd_);
}

std::string RespServer::address() const {
  const bool any = host_.empty() || host_ == "0.0.0.0" || host_ == "::";
  return JoinHostPort(any ? "127.0.0.1" : host_, port_);
}

void RespServer::Stop() {
  std::call_once(stop_once_, [this] {
    stopping_.store(true);
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
    completions_->Close();
    listener_.Close();
  });
}

void RespServer::CloseConnection(int fd, bool dropped) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  total_pending_ -= it->second->pending();
  // Counted before the socket closes: a client that sees the close sees the count.
  open_.fetch_sub(1);
  if (metrics_) {
    metrics_->connections.Decrement();
    if (dropped) metrics_->closed_by_server.Increment();
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(it);  // closes the socket
}

void RespServer::AcceptAll(absl::Time now) {
  for (;;) {
    absl::StatusOr<Socket> accepted = AcceptTcp(listener_);
    if (!accepted.ok()) {
      // Out of descriptors, say: rest the listener rather than spin on it.
      KV_LOG_WARNING("RESP port: ", accepted.status().message(), "; pausing accepts");
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener_.fd(), nullptr);
      listening_ = false;
      accept_paused_until_ = now + kAcceptPause;
      return;
    }
    if (!accepted->valid()) return;
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      // As Redis does; the socket is new, so the line fits its buffer.
      constexpr absl::string_view kFull = "-ERR max number of clients reached\r\n";
      (void)!send(accepted->fd(), kFull.data(), kFull.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (metrics_) metrics_->refused.Increment();
      continue;  // closed as `accepted` goes
    }
    auto c = std::make_unique<Connection>();
    c->socket = std::move(*accepted);
    c->id = ++next_connection_id_;
    const int fd = c->socket.fd();
    if (!WatchInput(epoll_fd_, fd)) continue;
    c->interest = EPOLLIN;
    connections_.emplace(fd, std::move(c));
    open_.fetch_add(1);
    if (metrics_) metrics_->connections.Increment();
  }
}

void RespServer::Loop() {
  std::vector<epoll_event> events(256);
  absl::Time next_stall_check = absl::Now() + kStallCheck;
  while (!stopping_.load()) {
    // Wake for the next stall check, or the end of an accept pause.
    absl::Duration wait = next_stall_check - absl::Now();
    if (!listening_) wait = std::min(wait, accept_paused_until_ - absl::Now());
    const int timeout_ms = std::max<int>(0, static_cast<int>(absl::ToInt64Milliseconds(wait)));
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n < 0 && errno != EINTR) {
      // Nothing can be served any more: refuse new clients rather than leave them waiting.
      KV_LOG_ERROR("RESP port: epoll_wait: ", std::strerror(errno), "; closing the port");
      listener_.Close();
      break;
    }
    const absl::Time now = absl::Now();
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {  // stopping_ is set, or writes finished
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        DeliverCompletions();
        AdoptWatches();
        continue;
      }
      if (auto w = watched_.find(fd); w != watched_.end()) {
        if (!w->second.on_input()) {
          epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
          Watched ended = std::move(w->second);
          watched_.erase(w);
          ended.on_end(false);
        }
        continue;
      }
      if (fd == listener_.fd()) {
        AcceptAll(now);
        continue;
      }
      auto it = connections_.find(fd);
      if (it == connections_.end()) continue;
      Connection* c = it->second.get();
      bool keep = true;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) keep = OnReadable(c);
      if (keep) keep = Serve(c);
      if (!keep) CloseConnection(fd, c->protocol_error);
    }
    // Connections held back by the server-wide bound run again once replies drained.
    if (!held_.empty() && total_pending_ <= options_.max_total_pending_reply_bytes) {
      std::vector<int> held;
      held.swap(held_);
      for (int fd : held) {
        auto it = connections_.find(fd);
        if (it == connections_.end()) continue;
        it->second->held = false;
        if (!Serve(it->second.get())) CloseConnection(fd, it->second->protocol_error);
      }
    }
    if (!listening_ && now >= accept_paused_until_) {
      listening_ = WatchInput(epoll_fd_, listener_.fd());
      if (!listening_) accept_paused_until_ = now + kAcceptPause;
    }
    if (now < next_stall_check) continue;
    next_stall_check = now + kStallCheck;
    // Clients that stopped taking their replies.
    std::vector<int> stalled;
    for (const auto& [fd, c] : connections_) {
      if (c->pending() > 0 && now - c->last_send_progress > options_.idle_send_timeout) {
        stalled.push_back(fd);
      }
    }
    for (int fd : stalled) {
      KV_LOG_WARNING("RESP port: closing a connection that took no reply byte for ",
                     absl::FormatDuration(options_.idle_send_timeout));
      CloseConnection(fd, /*dropped=*/true);
    }
  }
  while (!connections_.empty()) CloseConnection(connections_.begin()->first, false);
  EndWatches();
}

void RespServer::Watch(int fd, absl::AnyInvocable<bool()> on_input,
                       absl::AnyInvocable<void(bool)> on_end) {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (!watches_ended_) {
      new_watches_.emplace_back(fd, Watched{std::move(on_input), std::move(on_end)});
      const uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));
      return;
    }
  }
  on_end(true);
}

void RespServer::AdoptWatches() {
  std::vector<std::pair<int, Watched>> adopted;
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    adopted.swap(new_watches_);
  }
  for (auto& [fd, watch] : adopted) {
    if (!WatchInput(epoll_fd_, fd)) {
      KV_LOG_WARNING("RESP port: cannot watch descriptor ", fd, ": ", std::strerror(errno));
      watch.on_end(true);  // as if stopped: its owner serves it some other way
      continue;
    }
    watched_.emplace(fd, std::move(watch));
  }
}

void RespServer::EndWatches() {
  std::vector<std::pair<int, Watched>> ended;
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    watches_ended_ = true;
    ended.swap(new_watches_);
  }
  for (auto& [fd, watch] : watched_) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    watch.on_end(true);
  }
  watched_.clear();
  for (auto& [fd, watch] : ended) watch.on_end(true);
}

bool RespServer::Serve(Connection* c) {
  // Send, and run the commands held back while replies were over a bound, until the
  // socket is full, a bound holds them back again, or every complete command has run.
  for (;;) {
    if (!Flush(c)) return false;
    if (c->input.empty() || !c->CanRun(options_.max_pending_reply_bytes)) break;
    const size_t before = c->input.size();
    RunCommands(c);
    if (c->input.size() == before) break;  // an incomplete command (or held): wait
  }
  // Input ended: close once every complete command is answered (an incomplete one
  // never will be).
  if (c->input_closed && !c->held && !c->write_in_flight && c->pending() == 0) return false;
  UpdateInterest(c);
  return true;
}

bool RespServer::OnReadable(Connection* c) {
  // After QUIT, an error or the end of input, and while held back, input stays unread.
  if (c->input_closed || !c->CanRun(options_.max_pending_reply_bytes)) return true;
  char buffer[kReadBytes];
  const ssize_t n = recv(c->socket.fd(), buffer, sizeof(buffer), MSG_DONTWAIT);
  if (n == 0) {
    // The client is done sending but may still read: answer what came, then close
    // (Serve closes once no complete command and no reply is left).
    c->input_closed = true;
    return true;
  }
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c->input.append(buffer, static_cast<size_t>(n));
  RunCommands(c);
  return true;
}

void RespServer::RunCommands(Connection* c) {
  size_t pos = 0;
  const size_t before = c->output.size();
  while (pos < c->input.size() && c->CanRun(options_.max_pending_reply_bytes)) {
    if (total_pending_ + (c->output.size() - before) > options_.max_total_pending_reply_bytes) {
      held_.push_back(c->socket.fd());  // not yet held: CanRun() was true
      c->held = true;
      break;
    }
    size_t consumed = 0;
    std::string error;
    const RespParse parsed = ParseRespCommand(absl::string_view(c->input).substr(pos), &consumed,
                                              &c->args, &error);
    if (parsed == RespParse::kIncomplete) break;
    if (parsed == RespParse::kError) {
      AppendError(absl::StrCat("ERR ", error), &c->output);
      c->close_after_output = true;
      c->protocol_error = true;
      break;
    }
    pos += consumed;
    if (parsed != RespParse::kCommand) continue;
    std::optional<RespWrite> write;
    if (!commands_.Execute(c->args, &c->output, &write)) c->close_after_output = true;
    if (write) {
      c->write_in_flight = true;  // stops this loop: CanRun() is false until the reply
      completions_->Started();
      commands_.Commit(std::move(*write),
                       [completions = completions_, fd = c->socket.fd(), id = c->id](
                           std::string reply) { completions->Push({fd, id, std::move(reply)}); });
    }
  }
  total_pending_ += c->output.size() - before;
  c->input.erase(0, c->close_after_output ? c->input.size() : pos);
  if (c->input.empty() && c->input.capacity() > kKeepBufferBytes) std::string().swap(c->input);
}

bool RespServer::Flush(Connection* c) {
  const size_t before = c->pending();
  while (c->pending() > 0) {
    const ssize_t n = send(c->socket.fd(), c->output.data() + c->output_pos, c->pending(),
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c->output_pos += static_cast<size_t>(n);
    total_pending_ -= static_cast<size_t>(n);
  }
  if (c->pending() < before) c->last_send_progress = absl::Now();
  if (c->pending() == 0) {
    // A connection that once read a large value does not keep its buffer.
    if (c->output.capacity() > kKeepBufferBytes) {
      std::string().swap(c->output);
    } else {
      c->output.clear();
    }
    c->output_pos = 0;
    c->last_send_progress = absl::InfinitePast();  // the idle clock starts with new output
    if (c->close_after_output) return false;
  } else if (c->output_pos > c->output.size() / 2) {
    // Drop the sent half: amortised, each byte is moved at most once more.
    c->output.erase(0, c->output_pos);
    c->output_pos = 0;
  }
  return true;
}

void RespServer::DeliverCompletions() {
  for (Completions::Reply& reply : completions_->Take()) {
    auto it = connections_.find(reply.fd);
    if (it == connections_.end() || it->second->id != reply.connection_id) continue;  // gone
    Connection* c = it->second.get();
    c->write_in_flight = false;
    total_pending_ += reply.bytes.size();
    c->output.append(reply.bytes);
    if (!Serve(c)) CloseConnection(reply.fd, c->protocol_error);
  }
}

void RespServer::UpdateInterest(Connection* c) {
  uint32_t want = 0;
  if (c->pending() > 0) {
    want |= EPOLLOUT;
    if (c->last_send_progress == absl::InfinitePast()) c->last_send_progress = absl::Now();
  }
  if (!c->input_closed && c->CanRun(options_.max_pending_reply_bytes)) want |= EPOLLIN;
  if (want == c->interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.fd = c->socket.fd();
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->socket.fd(), &ev);
  c->interest = want;
}

}  // namespace kv::node
