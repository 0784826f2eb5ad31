#include "common/socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kv {
namespace {

// Milliseconds to `deadline` for poll(2), rounded up, 0 if passed.
int PollTimeout(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

// Waits until `fd` is ready for `events` or `deadline`; false at the deadline.
absl::StatusOr<bool> WaitReady(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, PollTimeout(deadline));
    if (n > 0) return true;
    if (n == 0) {
      if (absl::Now() >= deadline) return false;
      continue;  // rounding: poll woke a little early
    }
    if (errno == EINTR) continue;
    return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
  }
}

// Resolves "host:port" to its first address.
absl::StatusOr<addrinfo*> Resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints,
                             &result);
  if (rc != 0 || result == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", host, ":", port, ": ", gai_strerror(rc)));
  }
  return result;
}

}  // namespace

void SetNoDelay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.Release();
  }
  return *this;
}

void Socket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" is not host:port"));
  }
  absl::string_view h = address.substr(0, colon);
  if (!absl::SimpleAtoi(address.substr(colon + 1), port) || *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\": the port must be 0..65535"));
  }
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = std::string(h);
  return absl::OkStatus();
}

std::string JoinHostPort(absl::string_view host, int port) {
  return absl::StrCat(absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host, ":",
                      port);
}

absl::Time IdleDeadline(absl::Time deadline, absl::Duration idle) {
  return idle == absl::InfiniteDuration() ? deadline : std::min(deadline, absl::Now() + idle);
}

absl::StatusOr<Socket> ListenTcp(const std::string& host, int port, int* bound_port) {
  absl::StatusOr<addrinfo*> resolved = Resolve(host, port, /*passive=*/true);
  if (!resolved.ok()) return resolved.status();
  addrinfo* ai = *resolved;
  Socket s(socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  if (s.valid()) (void)setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool ok = s.valid() && bind(s.fd(), ai->ai_addr, ai->ai_addrlen) == 0 &&
                  listen(s.fd(), SOMAXCONN) == 0;
  const int err = errno;
  freeaddrinfo(ai);
  if (!ok) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", std::strerror(err)));
  }
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (getsockname(s.fd(), reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return absl::InternalError(absl::StrCat("getsockname: ", std::strerror(errno)));
  }
  *bound_port = local.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  return s;
}

absl::StatusOr<Socket> ConnectTcp(const std::string& address, absl::Time deadline,
                                  const std::function<bool(int fd)>& on_socket) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(address, &host, &port); !s.ok()) return s;
  absl::StatusOr<addrinfo*> resolved = Resolve(host, port, /*passive=*/false);
  if (!resolved.ok()) return resolved.status();
  addrinfo* ai = *resolved;
  Socket s(socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.valid() && on_socket && !on_socket(s.fd())) {
    freeaddrinfo(ai);
    return absl::CancelledError(absl::StrCat("connecting to ", address, " was cancelled"));
  }
  int rc = s.valid() ? connect(s.fd(), ai->ai_addr, ai->ai_addrlen) : -1;
  int err = errno;
  freeaddrinfo(ai);
  if (rc != 0 && s.valid() && err == EINPROGRESS) {
    absl::StatusOr<bool> ready = WaitReady(s.fd(), POLLOUT, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) {
      return absl::DeadlineExceededError(absl::StrCat("connecting to ", address, " timed out"));
    }
    socklen_t len = sizeof(err);
    if (getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    rc = err == 0 ? 0 : -1;
  }
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", address, ": ", std::strerror(err)));
  }
  SetNoDelay(s.fd());
  return s;
}

absl::StatusOr<Socket> AcceptTcp(const Socket& listener) {
  for (;;) {
    const int fd = accept4(listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      SetNoDelay(fd);
      return Socket(fd);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return Socket();
    return absl::UnavailableError(absl::StrCat("accept: ", std::strerror(errno)));
  }
}

absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline) {
  return SendAll(fd, data, deadline, absl::InfiniteDuration());
}

absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline, absl::Duration idle) {
  absl::Time progress_deadline = IdleDeadline(deadline, idle);
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      progress_deadline = IdleDeadline(deadline, idle);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::StatusOr<bool> ready = WaitReady(fd, POLLOUT, progress_deadline);
      if (!ready.ok()) return ready.status();
      if (!*ready) return absl::DeadlineExceededError("the peer took no data in time");
      continue;
    }
    return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReceiveSome(int fd, char* out, size_t max, absl::Time deadline) {
  for (;;) {
    const ssize_t n = recv(fd, out, max, MSG_DONTWAIT);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return absl::UnavailableError("the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    absl::StatusOr<bool> ready = WaitReady(fd, POLLIN, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) return absl::DeadlineExceededError("nothing received in time");
  }
}

absl::Status BlockWithReceiveTimeout(int fd, absl::Duration idle) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("fcntl: ", std::strerror(errno)));
  }
  const timeval timeout = absl::ToTimeval(std::max(idle, absl::Milliseconds(1)));
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0) {
    return absl::InternalError(absl::StrCat("setsockopt(SO_RCVTIMEO): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReceiveBlocking(int fd, char* out, size_t max) {
  for (;;) {
    const ssize_t n = recv(fd, out, max, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return absl::UnavailableError("the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return absl::DeadlineExceededError("nothing received in time");
    }
    return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
  }
}

}  // namespace kv
