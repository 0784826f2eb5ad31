#ifndef KV_COMMON_SOCKET_H_
#define KV_COMMON_SOCKET_H_

// Small blocking-with-deadline helpers over TCP sockets, for the plain-TCP replication
// stream. Every call waits in poll(2) with the time left until its deadline, so a
// silent peer never blocks a thread past it; sockets are TCP_NODELAY and CLOEXEC.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv {

// An owned socket descriptor, closed on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { Close(); }
  Socket(Socket&& other) noexcept : fd_(other.Release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Close();

 private:
  int fd_ = -1;
};

// Turns off Nagle's algorithm on a TCP socket (small messages leave at once).
void SetNoDelay(int fd);

// Splits "host:port" ("[v6]:port" too); INVALID_ARGUMENT names what is wrong.
absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port);
// The inverse: "host:port", with a v6 host in brackets.
std::string JoinHostPort(absl::string_view host, int port);

// The deadline for the next wait of a transfer that must end by `deadline` and must not
// go `idle` without progress: the earlier of the two (just `deadline` if `idle` is
// infinite). Call it again after each progress.
absl::Time IdleDeadline(absl::Time deadline, absl::Duration idle);

// Listens on `host`:`port` (port 0: any free one) and sets `*bound_port`.
absl::StatusOr<Socket> ListenTcp(const std::string& host, int port, int* bound_port);

// Connects to "host:port" before `deadline`: UNAVAILABLE naming the address on failure,
// DEADLINE_EXCEEDED if it takes too long. `on_socket`, if given, sees the descriptor
// before the connect starts (so another thread can shutdown(2) it to cut the wait short)
// and may refuse it (CANCELLED).
absl::StatusOr<Socket> ConnectTcp(const std::string& address, absl::Time deadline,
                                  const std::function<bool(int fd)>& on_socket = nullptr);

// Accepts one connection if one is pending (the listener is non-blocking); an invalid
// Socket if none is.
absl::StatusOr<Socket> AcceptTcp(const Socket& listener);

// Writes all of `data` before `deadline`: DEADLINE_EXCEEDED if the peer does not take it
// in time, UNAVAILABLE if the connection fails.
absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline);
// The same, but DEADLINE_EXCEEDED also once the peer takes no byte for `idle`: a slow
// reader that keeps taking data is not cut off, a stalled one is.
absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline, absl::Duration idle);

// Reads what is available (at most `max` bytes) into `out` and returns how much, waiting
// until `deadline` for the first byte: DEADLINE_EXCEEDED if none came, UNAVAILABLE on
// end of stream or error.
absl::StatusOr<size_t> ReceiveSome(int fd, char* out, size_t max, absl::Time deadline);

// Puts socket `fd` in blocking mode with a receive timeout of `idle` (SO_RCVTIMEO), for
// ReceiveBlocking. Sends keep their own deadlines (SendAll polls when a send would block).
absl::Status BlockWithReceiveTimeout(int fd, absl::Duration idle);
// Reads what is available (at most `max` bytes) from a socket set up by
// BlockWithReceiveTimeout, waiting in the kernel: one recv() where ReceiveSome makes three
// (recv, poll, recv) when nothing is waiting yet. DEADLINE_EXCEEDED if no byte came within
// the socket's timeout, UNAVAILABLE on end of stream (shutdown() included) or error.
absl::StatusOr<size_t> ReceiveBlocking(int fd, char* out, size_t max);

}  // namespace kv

#endif  // KV_COMMON_SOCKET_H_
