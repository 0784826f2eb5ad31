#include "common/link_bridge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/socket.h"
#include "common/thread_name.h"

namespace kv {

// ---------------------------------------------------------------------------------------
// DelayedByteQueue

namespace link_bridge_internal {

void DelayedByteQueue::Push(absl::Time deliver_at, absl::string_view bytes) {
  if (bytes.empty()) return;
  deliver_at = std::max(deliver_at, last_deliver_at_);
  last_deliver_at_ = deliver_at;
  chunks_.push_back(Chunk{deliver_at, std::string(bytes)});
  queued_bytes_ += bytes.size();
  charged_ += bytes.size() + kChunkOverhead;
}

void DelayedByteQueue::PushEof(absl::Time deliver_at) {
  eof_pushed_ = true;
  eof_at_ = std::max(deliver_at, last_deliver_at_);
}

absl::string_view DelayedByteQueue::Due(absl::Time now) const {
  if (chunks_.empty() || chunks_.front().deliver_at > now) return {};
  return absl::string_view(chunks_.front().bytes).substr(front_offset_);
}

void DelayedByteQueue::Consume(size_t n) {
  while (n > 0 && !chunks_.empty()) {
    const size_t left = chunks_.front().bytes.size() - front_offset_;
    const size_t take = std::min(n, left);
    front_offset_ += take;
    queued_bytes_ -= take;
    n -= take;
    if (front_offset_ == chunks_.front().bytes.size()) {
      charged_ -= chunks_.front().bytes.size() + kChunkOverhead;
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
}

bool DelayedByteQueue::EofDue(absl::Time now) const {
  return eof_pushed_ && !eof_delivered_ && chunks_.empty() && eof_at_ <= now;
}

absl::Time DelayedByteQueue::NextDue() const {
  if (!chunks_.empty()) return chunks_.front().deliver_at;
  if (eof_pushed_ && !eof_delivered_) return eof_at_;
  return absl::InfiniteFuture();
}

}  // namespace link_bridge_internal

using link_bridge_internal::DelayedByteQueue;

namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
// How long accepting pauses when the process is out of file descriptors (the listening
// socket stays readable, so polling it again at once would spin).
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Closes `fd` with an RST instead of a FIN, so the peer sees a reset, not a clean EOF.
void CloseWithReset(int fd) {
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);
}

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("link bridge: ", what, ": ", std::strerror(errno)));
}

}  // namespace

struct LinkBridge::Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

// ---------------------------------------------------------------------------------------
// Loop: everything below runs on the bridge's one thread and owns its sockets.

class LinkBridge::Loop {
 public:
  Loop(LinkBridge* bridge, int listen_fd, Target target)
      : b_(bridge), listen_fd_(listen_fd), target_(target), scratch_(new char[kReadChunkBytes]) {}

  ~Loop() {
    for (auto& c : conns_) ResetConn(*c, /*count=*/false);
    close(listen_fd_);
  }

  void Run();

 private:
  struct Direction {
    explicit Direction(size_t capacity) : queue(capacity) {}
    DelayedByteQueue queue;
    bool read_eof = false;     // the source sent FIN
    bool dst_blocked = false;  // the destination's send buffer is full: wait for POLLOUT
  };

  struct Conn {
    Conn(int client, int target, size_t capacity)
        : client_fd(client), target_fd(target), up(capacity), down(capacity) {}
    int client_fd;
    int target_fd;
    bool connecting = true;  // non-blocking connect to the target in progress
    bool failed = false;     // to be reset and removed
    Direction up;            // client -> target
    Direction down;          // target -> client
  };

  struct Controls {
    absl::Duration latency;
    bool cut = false;
    uint64_t cut_epoch = 0;
    bool blackholed = false;
    uint64_t generation = 0;
  };

  // What one pollfd entry refers to.
  struct Slot {
    Conn* conn;
    bool is_target;
  };

  static bool WantsRead(const Direction& d) { return !d.read_eof && d.queue.HasRoom(); }

  void ResetConn(Conn& c, bool count) {
    CloseWithReset(c.client_fd);
    CloseWithReset(c.target_fd);
    c.client_fd = c.target_fd = -1;
    if (count) b_->reset_.fetch_add(1, std::memory_order_relaxed);
  }

  // Marks `c` for reset by the next Reap().
  static void Fail(Conn& c) { c.failed = true; }

  void ResetAll() {
    for (auto& c : conns_) ResetConn(*c, /*count=*/true);
    conns_.clear();
    b_->open_.store(0, std::memory_order_relaxed);
  }

  // Writes what is due from `d` to `dst_fd`, then the EOF if due.
  void PumpDirection(Conn& c, Direction& d, int dst_fd, absl::Time now,
                     std::atomic<uint64_t>& counter) {
    if (d.dst_blocked) return;
    for (;;) {
      absl::string_view data = d.queue.Due(now);
      if (data.empty()) break;
      ssize_t n = send(dst_fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (WouldBlock(errno)) {
          d.dst_blocked = true;
          return;
        }
        Fail(c);
        return;
      }
      d.queue.Consume(static_cast<size_t>(n));
      counter.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      if (static_cast<size_t>(n) < data.size()) {
        d.dst_blocked = true;
        return;
      }
    }
    if (d.queue.EofDue(now)) {
      // Half-close: the far side reads EOF but may still send to us.
      if (shutdown(dst_fd, SHUT_WR) != 0 && errno != ENOTCONN) {
        Fail(c);
        return;
      }
      d.queue.ConsumeEof();
    }
  }

  void Pump(Conn& c, absl::Time now, bool blackholed) {
    if (c.failed || blackholed) return;
    if (!c.connecting) PumpDirection(c, c.up, c.target_fd, now, b_->bytes_to_target_);
    if (!c.failed) PumpDirection(c, c.down, c.client_fd, now, b_->bytes_to_client_);
  }

  // Reads once from `src_fd` into `d`.
  void ReadInto(Conn& c, Direction& d, int src_fd, absl::Duration latency) {
    ssize_t n;
    do {
      n = recv(src_fd, scratch_.get(), kReadChunkBytes, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      d.queue.Push(absl::Now() + latency,
                   absl::string_view(scratch_.get(), static_cast<size_t>(n)));
    } else if (n == 0) {
      d.read_eof = true;
      d.queue.PushEof(absl::Now() + latency);
    } else if (!WouldBlock(errno)) {
      Fail(c);
    }
  }

  // Removes failed connections (reset) and finished ones (EOF delivered both ways).
  void Reap() {
    auto done = [this](std::unique_ptr<Conn>& c) {
      if (c->failed) {
        ResetConn(*c, /*count=*/true);
        return true;
      }
      if (c->up.queue.eof_delivered() && c->down.queue.eof_delivered()) {
        close(c->client_fd);
        close(c->target_fd);
        return true;
      }
      return false;
    };
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(), done), conns_.end());
    b_->open_.store(static_cast<int>(conns_.size()), std::memory_order_relaxed);
  }

  void AcceptAll(const Controls& controls) {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (WouldBlock(errno)) return;
        KV_LOG_WARNING("link bridge ", b_->address_, ": accept: ", std::strerror(errno),
                       "; pausing accepts");
        accept_paused_until_ = absl::Now() + kAcceptPause;
        return;
      }
      if (controls.cut || static_cast<int>(conns_.size()) >= b_->options_.max_connections) {
        CloseWithReset(fd);
        b_->refused_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      int tfd = socket(target_.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (tfd < 0) {
        CloseWithReset(fd);
        b_->refused_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      SetNoDelay(fd);
      SetNoDelay(tfd);
      auto conn = std::make_unique<Conn>(fd, tfd, b_->options_.max_queued_bytes);
      b_->accepted_.fetch_add(1, std::memory_order_relaxed);
      int r = connect(tfd, reinterpret_cast<const sockaddr*>(&target_.addr), target_.len);
      if (r == 0) {
        conn->connecting = false;
      } else if (errno != EINPROGRESS) {
        conn->failed = true;  // reset by the next Reap(): the client sees the refusal
      }
      conns_.push_back(std::move(conn));
    }
  }

  // Finishes a non-blocking connect once the target socket reports writable or an error.
  void FinishConnect(Conn& c) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c.target_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Fail(c);
      return;
    }
    c.connecting = false;
  }

  // Fills fds_/slots_ with the sockets that have something to wait for and returns the
  // earliest delivery time (the poll timeout).
  absl::Time BuildPollSet(bool blackholed) {
    fds_.clear();
    slots_.clear();
    absl::Time deadline = absl::InfiniteFuture();
    fds_.push_back(pollfd{b_->wake_fd_, POLLIN, 0});
    const bool accepting = absl::Now() >= accept_paused_until_;
    fds_.push_back(pollfd{accepting ? listen_fd_ : -1, POLLIN, 0});
    if (!accepting) deadline = accept_paused_until_;
    for (auto& cp : conns_) {
      Conn& c = *cp;
      if (c.failed) continue;
      short client_events = 0;
      short target_events = 0;
      if (c.connecting) {
        target_events |= POLLOUT;
        if (WantsRead(c.up)) client_events |= POLLIN;
      } else {
        if (WantsRead(c.up)) client_events |= POLLIN;
        if (WantsRead(c.down)) target_events |= POLLIN;
        if (c.up.dst_blocked) target_events |= POLLOUT;
        if (!blackholed && !c.up.dst_blocked) deadline = std::min(deadline, c.up.queue.NextDue());
      }
      if (c.down.dst_blocked) client_events |= POLLOUT;
      if (!blackholed && !c.down.dst_blocked) {
        deadline = std::min(deadline, c.down.queue.NextDue());
      }
      // A socket with nothing to wait for is left out entirely: poll() would report its
      // POLLHUP/POLLERR regardless of the requested events and the loop would spin.
      if (client_events != 0) {
        fds_.push_back(pollfd{c.client_fd, client_events, 0});
        slots_.push_back(Slot{&c, false});
      }
      if (target_events != 0) {
        fds_.push_back(pollfd{c.target_fd, target_events, 0});
        slots_.push_back(Slot{&c, true});
      }
    }
    return deadline;
  }

  void HandleEvents(const Controls& controls) {
    constexpr short kReadable = POLLIN | POLLHUP | POLLERR;
    constexpr short kWritable = POLLOUT | POLLHUP | POLLERR;
    for (size_t i = 0; i < slots_.size(); ++i) {
      const short revents = fds_[i + 2].revents;
      const short events = fds_[i + 2].events;
      if (revents == 0) continue;
      Conn& c = *slots_[i].conn;
      if (c.failed) continue;
      if (slots_[i].is_target) {
        if (c.connecting) {
          if (revents & kWritable) FinishConnect(c);
          continue;
        }
        if ((events & POLLOUT) && (revents & kWritable)) c.up.dst_blocked = false;
        if ((events & POLLIN) && (revents & kReadable)) {
          ReadInto(c, c.down, c.target_fd, controls.latency);
        }
      } else {
        if ((events & POLLOUT) && (revents & kWritable)) c.down.dst_blocked = false;
        if ((events & POLLIN) && (revents & kReadable)) {
          ReadInto(c, c.up, c.client_fd, controls.latency);
        }
      }
    }
  }

  LinkBridge* const b_;
  const int listen_fd_;
  const Target target_;
  std::unique_ptr<char[]> scratch_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<pollfd> fds_;  // [0] wake eventfd, [1] listener, then slots_
  std::vector<Slot> slots_;
  absl::Time accept_paused_until_ = absl::InfinitePast();
};

void LinkBridge::Loop::Run() {
  uint64_t applied_epoch = 0;
  uint64_t applied_generation = 0;
  for (;;) {
    Controls c;
    {
      absl::MutexLock lock(&b_->mu_);
      if (b_->stop_) break;
      c = Controls{b_->latency_, b_->cut_, b_->cut_epoch_, b_->blackholed_, b_->generation_};
    }
    if (c.cut_epoch != applied_epoch) {
      ResetAll();
      applied_epoch = c.cut_epoch;
    }
    if (c.generation != applied_generation) {
      absl::MutexLock lock(&b_->mu_);
      b_->applied_generation_ = applied_generation = c.generation;
      b_->applied_cv_.SignalAll();
    }

    const absl::Time now = absl::Now();
    for (auto& conn : conns_) Pump(*conn, now, c.blackholed);
    Reap();

    const absl::Time deadline = BuildPollSet(c.blackholed);
    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline != absl::InfiniteFuture()) {
      // Round up so we never wake just before the delivery time and spin.
      ts = absl::ToTimespec(
          std::max(absl::ZeroDuration(), deadline - absl::Now() + absl::Microseconds(1)));
      timeout = &ts;
    }
    int n = ppoll(fds_.data(), fds_.size(), timeout, nullptr);
    b_->wakeups_.fetch_add(1, std::memory_order_relaxed);
    if (n < 0) {
      if (errno == EINTR) continue;
      KV_LOG_ERROR("link bridge ", b_->address_, ": ppoll: ", std::strerror(errno), "; stopping");
      break;
    }
    if (n == 0) continue;
    if (fds_[0].revents & POLLIN) {
      uint64_t drained;
      (void)!read(b_->wake_fd_, &drained, sizeof(drained));
    }
    if (fds_[1].revents & POLLIN) AcceptAll(c);
    HandleEvents(c);
  }
  absl::MutexLock lock(&b_->mu_);
  b_->loop_exited_ = true;
  b_->applied_cv_.SignalAll();
}

// ---------------------------------------------------------------------------------------
// LinkBridge

namespace {

// Parses "host:port" with a loopback host into `target`.
absl::Status ParseTarget(absl::string_view address, sockaddr_storage* addr, socklen_t* len,
                         int* family) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("link bridge target \"", address, "\": ", why));
  };
  std::string host;
  int port = 0;
  if (absl::Status split = SplitHostPort(address, &host, &port); !split.ok()) {
    return invalid(split.message());
  }
  if (port < 1) return invalid("port must be 1..65535");
  const std::string host_str = host == "localhost" ? "127.0.0.1" : host;
  *addr = sockaddr_storage{};
  sockaddr_in* v4 = reinterpret_cast<sockaddr_in*>(addr);
  sockaddr_in6* v6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (inet_pton(AF_INET, host_str.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return invalid("host must be loopback");
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    *family = AF_INET;
    return absl::OkStatus();
  }
  if (inet_pton(AF_INET6, host_str.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return invalid("host must be loopback");
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    *family = AF_INET6;
    return absl::OkStatus();
  }
  return invalid("host must be a loopback IP literal or localhost");
}

}  // namespace

LinkBridge::LinkBridge(std::string target_address, std::string address, LinkBridgeOptions options)
    : target_address_(std::move(target_address)),
      address_(std::move(address)),
      options_(options),
      latency_(options.one_way_latency) {}

absl::StatusOr<std::unique_ptr<LinkBridge>> LinkBridge::Start(std::string target_address,
                                                              LinkBridgeOptions options) {
  Target target;
  absl::Status parsed = ParseTarget(target_address, &target.addr, &target.len, &target.family);
  if (!parsed.ok()) return parsed;
  if (options.max_queued_bytes == 0 || options.max_connections < 1) {
    return absl::InvalidArgumentError(
        "link bridge: max_queued_bytes and max_connections must be positive");
  }

  int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) return ErrnoError("socket");
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  local.sin_port = 0;
  socklen_t local_len = sizeof(local);
  if (bind(listen_fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      listen(listen_fd, SOMAXCONN) != 0 ||
      getsockname(listen_fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    absl::Status status = ErrnoError("listen on 127.0.0.1:0");
    close(listen_fd);
    return status;
  }
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    absl::Status status = ErrnoError("eventfd");
    close(listen_fd);
    return status;
  }

  std::unique_ptr<LinkBridge> bridge(new LinkBridge(
      std::move(target_address), absl::StrCat("127.0.0.1:", ntohs(local.sin_port)), options));
  bridge->wake_fd_ = wake_fd;
  bridge->loop_ = std::make_unique<Loop>(bridge.get(), listen_fd, target);
  bridge->thread_ = std::thread([b = bridge.get()] {
    SetCurrentThreadName("kv-link");
    b->loop_->Run();
  });
  return bridge;
}

LinkBridge::~LinkBridge() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  loop_.reset();  // resets every connection and closes the listener
  if (wake_fd_ >= 0) close(wake_fd_);
}

void LinkBridge::Wake() {
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void LinkBridge::ApplyAndWait() {
  const uint64_t generation = ++generation_;
  Wake();
  while (applied_generation_ < generation && !loop_exited_) applied_cv_.Wait(&mu_);
}

void LinkBridge::SetLatency(absl::Duration one_way_latency) {
  absl::MutexLock lock(&mu_);
  latency_ = std::max(absl::ZeroDuration(), one_way_latency);
  ApplyAndWait();
}

absl::Duration LinkBridge::latency() const {
  absl::MutexLock lock(&mu_);
  return latency_;
}

void LinkBridge::Cut() {
  absl::MutexLock lock(&mu_);
  cut_ = true;
  ++cut_epoch_;
  ApplyAndWait();
}

void LinkBridge::Heal() {
  absl::MutexLock lock(&mu_);
  cut_ = false;
  ApplyAndWait();
}

bool LinkBridge::is_cut() const {
  absl::MutexLock lock(&mu_);
  return cut_;
}

void LinkBridge::Blackhole(bool on) {
  absl::MutexLock lock(&mu_);
  blackholed_ = on;
  ApplyAndWait();
}

bool LinkBridge::is_blackholed() const {
  absl::MutexLock lock(&mu_);
  return blackholed_;
}

LinkBridgeStats LinkBridge::stats() const {
  LinkBridgeStats s;
  s.bytes_to_target = bytes_to_target_.load(std::memory_order_relaxed);
  s.bytes_to_client = bytes_to_client_.load(std::memory_order_relaxed);
  s.connections_accepted = accepted_.load(std::memory_order_relaxed);
  s.connections_refused = refused_.load(std::memory_order_relaxed);
  s.connections_reset = reset_.load(std::memory_order_relaxed);
  s.open_connections = open_.load(std::memory_order_relaxed);
  s.loop_wakeups = wakeups_.load(std::memory_order_relaxed);
  return s;
}

uint64_t LinkBridge::bytes_forwarded() const {
  return bytes_to_target_.load(std::memory_order_relaxed) +
         bytes_to_client_.load(std::memory_order_relaxed);
}

}  // namespace kv
