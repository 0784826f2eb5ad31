#include "node/resp_server.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "node/resp_protocol.h"

namespace kv::node {

namespace {

constexpr size_t kReadBytes = 64 * 1024;  // read(2) size per wake-up
// How long the loop waits between checks of stalled senders and a paused accept.
constexpr int kTickMillis = 1000;
// After accept fails (out of descriptors), how long the listener rests.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

}  // namespace

struct RespServer::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : connections(prometheus::BuildGauge()
                        .Name("kv_resp_connections")
                        .Help("Connections open on the RESP read port")
                        .Register(registry)
                        .Add({})),
        refused(prometheus::BuildCounter()
                    .Name("kv_resp_connections_refused_total")
                    .Help("Connections to the RESP read port closed at once: over max_connections")
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

struct RespServer::Connection {
  Socket socket;
  std::string input;         // received, not yet parsed
  std::string output;        // replies not yet sent, from output_pos on
  size_t output_pos = 0;
  bool close_after_output = false;  // QUIT or a protocol error: close once sent
  bool protocol_error = false;
  uint32_t interest = 0;            // what epoll watches for now
  absl::Time last_send_progress = absl::InfinitePast();
  std::vector<absl::string_view> args;  // reused per command

  size_t pending() const { return output.size() - output_pos; }
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
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll.fd(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return absl::InternalError(absl::StrCat("RESP port: epoll_ctl: ", std::strerror(errno)));
    }
  }
  std::unique_ptr<RespServer> server(new RespServer(context, registry, host,
                                                    std::move(*listener), bound, epoll.Release(),
                                                    wake.Release(), options));
  server->thread_ = std::thread([s = server.get()] { s->Loop(); });
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
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  listener_.Close();
}

void RespServer::Loop() {
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  absl::Time accept_paused_until = absl::InfinitePast();
  bool listening = true;
  std::vector<epoll_event> events(256);
  auto close_connection = [&](int fd, bool dropped) {
    // Counted before the socket closes: a client that sees the close sees the count.
    open_.fetch_sub(1);
    if (metrics_) {
      metrics_->connections.Decrement();
      if (dropped) metrics_->closed_by_server.Increment();
    }
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    connections.erase(fd);  // closes the socket
  };

  while (!stopping_.load()) {
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                             kTickMillis);
    if (n < 0 && errno != EINTR) {
      KV_LOG_ERROR("RESP port: epoll_wait: ", std::strerror(errno));
      break;
    }
    const absl::Time now = absl::Now();
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) continue;  // stopping_ is set
      if (fd == listener_.fd()) {
        for (;;) {
          absl::StatusOr<Socket> accepted = AcceptTcp(listener_);
          if (!accepted.ok()) {
            // Out of descriptors, say: rest the listener rather than spin on it.
            KV_LOG_WARNING("RESP port: ", accepted.status().message(), "; pausing accepts");
            epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener_.fd(), nullptr);
            listening = false;
            accept_paused_until = now + kAcceptPause;
            break;
          }
          if (!accepted->valid()) break;
          if (static_cast<int>(connections.size()) >= options_.max_connections) {
            if (metrics_) metrics_->refused.Increment();
            continue;  // closed as `accepted` goes
          }
          auto c = std::make_unique<Connection>();
          c->socket = std::move(*accepted);
          const int cfd = c->socket.fd();
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = cfd;
          if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, cfd, &ev) != 0) continue;
          c->interest = EPOLLIN;
          connections.emplace(cfd, std::move(c));
          open_.fetch_add(1);
          if (metrics_) metrics_->connections.Increment();
        }
        continue;
      }
      auto it = connections.find(fd);
      if (it == connections.end()) continue;
      Connection* c = it->second.get();
      bool keep = true;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) keep = OnReadable(c);
      // Send, and run the commands held back while replies were over the bound, until
      // the socket is full or every complete command has run.
      while (keep && (keep = Flush(c))) {
        if (c->input.empty() || c->close_after_output ||
            c->pending() > options_.max_pending_reply_bytes) {
          break;
        }
        const size_t before = c->input.size();
        RunCommands(c);
        if (c->input.size() == before) break;  // an incomplete command: wait for input
      }
      if (!keep) {
        close_connection(fd, c->protocol_error);
        continue;
      }
      UpdateInterest(c);
    }

    if (!listening && now >= accept_paused_until) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = listener_.fd();
      listening = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener_.fd(), &ev) == 0;
      if (!listening) accept_paused_until = now + kAcceptPause;
    }
    // Clients that stopped taking their replies.
    std::vector<int> stalled;
    for (const auto& [fd, c] : connections) {
      if (c->pending() > 0 && now - c->last_send_progress > options_.idle_send_timeout) {
        stalled.push_back(fd);
      }
    }
    for (int fd : stalled) {
      KV_LOG_WARNING("RESP port: closing a connection that took no reply byte for ",
                     absl::FormatDuration(options_.idle_send_timeout));
      close_connection(fd, /*dropped=*/true);
    }
  }
  for (auto& [fd, c] : connections) {
    (void)c;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    open_.fetch_sub(1);
    if (metrics_) metrics_->connections.Decrement();
  }
  connections.clear();
}

bool RespServer::OnReadable(Connection* c) {
  if (c->close_after_output) return true;  // input after QUIT or an error is ignored
  // Held back (replies over the bound): leave the input in the socket.
  if (c->pending() > options_.max_pending_reply_bytes) return true;
  char buffer[kReadBytes];
  const ssize_t n = recv(c->socket.fd(), buffer, sizeof(buffer), MSG_DONTWAIT);
  if (n == 0) return false;  // the client closed
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c->input.append(buffer, static_cast<size_t>(n));
  RunCommands(c);
  return true;
}

void RespServer::RunCommands(Connection* c) {
  size_t pos = 0;
  while (!c->close_after_output && pos < c->input.size() &&
         c->pending() <= options_.max_pending_reply_bytes) {
    size_t consumed = 0;
    std::string error;
    const RespParse parsed = ParseRespCommand(absl::string_view(c->input).substr(pos), &consumed,
                                              &c->args, &error);
    if (parsed == RespParse::kIncomplete && c->input.size() - pos > kRespMaxCommandBytes) {
      error = absl::StrCat("Protocol error: command longer than ", kRespMaxCommandBytes, " bytes");
    } else if (parsed == RespParse::kIncomplete) {
      break;
    }
    if (!error.empty()) {
      AppendError(absl::StrCat("ERR ", error), &c->output);
      c->close_after_output = true;
      c->protocol_error = true;
      break;
    }
    pos += consumed;
    if (parsed == RespParse::kCommand && !commands_.Execute(c->args, &c->output)) {
      c->close_after_output = true;
    }
  }
  c->input.erase(0, c->close_after_output ? c->input.size() : pos);
}

bool RespServer::Flush(Connection* c) {
  while (c->pending() > 0) {
    const ssize_t n = send(c->socket.fd(), c->output.data() + c->output_pos, c->pending(),
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c->output_pos += static_cast<size_t>(n);
    c->last_send_progress = absl::Now();
  }
  if (c->pending() == 0) {
    c->output.clear();
    c->output_pos = 0;
    c->last_send_progress = absl::InfinitePast();  // the idle clock starts with new output
    if (c->close_after_output) return false;
  } else if (c->output_pos > (1 << 20)) {
    c->output.erase(0, c->output_pos);  // do not keep sent megabytes around
    c->output_pos = 0;
  }
  return true;
}

void RespServer::UpdateInterest(Connection* c) {
  uint32_t want = 0;
  if (c->pending() > 0) {
    want |= EPOLLOUT;
    if (c->last_send_progress == absl::InfinitePast()) c->last_send_progress = absl::Now();
  }
  if (!c->close_after_output && c->pending() <= options_.max_pending_reply_bytes) {
    want |= EPOLLIN;
  }
  if (want == c->interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.fd = c->socket.fd();
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->socket.fd(), &ev);
  c->interest = want;
}

}  // namespace kv::node
