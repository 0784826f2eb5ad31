#include "tools/kv_bench/redis_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
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

namespace kv::bench {
namespace {

// What Fill() fails with in no-wait mode when the buffered bytes end mid-reply.
absl::Status IncompleteReply() { return absl::OutOfRangeError("redis: reply incomplete"); }

bool IsIncompleteReply(const absl::Status& s) {
  return s.code() == absl::StatusCode::kOutOfRange && s.message() == "redis: reply incomplete";
}

// How much one recv() takes.
constexpr size_t kReceiveChunk = 16384;

// Nesting a reply may have; RESP2 replies to our commands are never nested at all.
constexpr int kMaxReplyDepth = 8;
// A bulk string longer than this is treated as a corrupt reply rather than allocated.
constexpr int64_t kMaxBulkBytes = 512LL * 1024 * 1024;

// Returns milliseconds from now until `deadline` for poll(), at least 0.
int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

// Waits until `fd` is ready for `events`: DEADLINE_EXCEEDED when `deadline` passes.
absl::Status WaitFor(int fd, short events, absl::Time deadline, absl::string_view what) {
  for (;;) {
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int n = poll(&p, 1, PollTimeoutMs(deadline));
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::DeadlineExceededError(absl::StrCat("redis: timed out ", what));
    if (errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("redis: poll: ", std::strerror(errno)));
    }
  }
}

}  // namespace

std::string EncodeRespCommand(const std::vector<absl::string_view>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (absl::string_view arg : args) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

absl::Status StatusFromRedisError(absl::string_view error_text) {
  const std::string message = absl::StrCat("redis: ", error_text);
  for (absl::string_view transient : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"}) {
    if (absl::StartsWith(error_text, transient)) return absl::UnavailableError(message);
  }
  if (absl::StartsWith(error_text, "ERR")) return absl::InvalidArgumentError(message);
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<std::optional<std::string>> ValueFromReply(RespReply reply,
                                                          absl::string_view command) {
  switch (reply.type) {
    case RespReply::Type::kError:
      return StatusFromRedisError(reply.text);
    case RespReply::Type::kNull:
      return std::optional<std::string>();
    case RespReply::Type::kBulkString:
      return std::optional<std::string>(std::move(reply.text));
    default:
      return absl::InternalError(absl::StrCat("redis: ", command,
                                              " answered with neither a bulk string nor null"));
  }
}

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Connect(const std::string& endpoint,
                                                                  absl::Duration timeout) {
  const size_t colon = endpoint.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(endpoint.substr(colon + 1), &port) ||
      port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis endpoint must be host:port, not \"", endpoint, "\""));
  }
  std::string host = endpoint.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis endpoint host must be an IPv4 address, not \"", host, "\""));
  }
  std::unique_ptr<RedisClient> client(new RedisClient(endpoint, host, port, timeout));
  absl::Status s = client->Reconnect();
  if (!s.ok()) return s;
  return client;
}

RedisClient::RedisClient(std::string endpoint, std::string host, int port, absl::Duration timeout)
    : endpoint_(std::move(endpoint)), host_(std::move(host)), port_(port), timeout_(timeout) {}

RedisClient::~RedisClient() { Close(); }

void RedisClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buffer_.clear();
  buffer_pos_ = 0;
}

absl::Status RedisClient::Reconnect() {
  Close();
  const absl::Time deadline = absl::Now() + timeout_;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("redis: socket: ", std::strerror(errno)));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, host_.c_str(), &sa.sin_addr);
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
  if (rc != 0 && errno == EINPROGRESS) {
    absl::Status waited = WaitFor(fd, POLLOUT, deadline, absl::StrCat("connecting to ", endpoint_));
    if (!waited.ok()) {
      close(fd);
      return waited;
    }
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    errno = error;
    rc = error == 0 ? 0 : -1;
  }
  if (rc != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("redis: cannot connect to ", endpoint_, ": ", why));
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
  return absl::OkStatus();
}

absl::Status RedisClient::SendAll(absl::string_view bytes, absl::Time deadline) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Status s = WaitFor(fd_, POLLOUT, deadline, absl::StrCat("sending to ", endpoint_));
      if (!s.ok()) return s;
      continue;
    }
    return absl::UnavailableError(
        absl::StrCat("redis: sending to ", endpoint_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status RedisClient::Fill(absl::Time deadline) {
  if (buffer_pos_ < buffer_.size()) return absl::OkStatus();
  if (no_wait_) return IncompleteReply();
  buffer_.clear();
  buffer_pos_ = 0;
  for (;;) {
    absl::StatusOr<size_t> received = ReceiveSome();
    if (!received.ok()) return received.status();
    if (*received > 0) return absl::OkStatus();
    absl::Status s =
        WaitFor(fd_, POLLIN, deadline, absl::StrCat("waiting for a reply from ", endpoint_));
    if (!s.ok()) return s;
  }
}

absl::StatusOr<size_t> RedisClient::ReceiveSome() {
  char chunk[kReceiveChunk];
  for (;;) {
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
    if (n == 0) {
      return absl::UnavailableError(absl::StrCat("redis: ", endpoint_, " closed the connection"));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return absl::UnavailableError(
        absl::StrCat("redis: reading from ", endpoint_, ": ", std::strerror(errno)));
  }
}

absl::StatusOr<std::string> RedisClient::ReadLine(absl::Time deadline) {
  std::string line;
  for (;;) {
    absl::Status s = Fill(deadline);
    if (!s.ok()) return s;
    const size_t nl = buffer_.find('\n', buffer_pos_);
    if (nl == std::string::npos) {
      line.append(buffer_, buffer_pos_, std::string::npos);
      buffer_pos_ = buffer_.size();
      if (line.size() > 65536) return absl::InternalError("redis: reply line too long");
      continue;
    }
    line.append(buffer_, buffer_pos_, nl - buffer_pos_);
    buffer_pos_ = nl + 1;
    if (line.empty() || line.back() != '\r') {
      return absl::InternalError("redis: reply line not terminated by CRLF");
    }
    line.pop_back();
    return line;
  }
}

absl::StatusOr<std::string> RedisClient::ReadExactly(size_t n, absl::Time deadline) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    absl::Status s = Fill(deadline);
    if (!s.ok()) return s;
    const size_t take = std::min(n - out.size(), buffer_.size() - buffer_pos_);
    out.append(buffer_, buffer_pos_, take);
    buffer_pos_ += take;
  }
  return out;
}

absl::StatusOr<RespReply> RedisClient::ReadReply(absl::Time deadline, int depth) {
  if (depth > kMaxReplyDepth) return absl::InternalError("redis: reply nested too deeply");
  absl::StatusOr<std::string> line = ReadLine(deadline);
  if (!line.ok()) return line.status();
  if (line->empty()) return absl::InternalError("redis: empty reply line");
  const char type = (*line)[0];
  const std::string rest = line->substr(1);
  RespReply reply;
  switch (type) {
    case '+':
      reply.type = RespReply::Type::kSimpleString;
      reply.text = rest;
      return reply;
    case '-':
      reply.type = RespReply::Type::kError;
      reply.text = rest;
      return reply;
    case ':':
      reply.type = RespReply::Type::kInteger;
      if (!absl::SimpleAtoi(rest, &reply.integer)) {
        return absl::InternalError(absl::StrCat("redis: bad integer reply \"", rest, "\""));
      }
      return reply;
    case '$': {
      int64_t len = 0;
      if (!absl::SimpleAtoi(rest, &len) || len < -1 || len > kMaxBulkBytes) {
        return absl::InternalError(absl::StrCat("redis: bad bulk length \"", rest, "\""));
      }
      if (len == -1) return reply;  // kNull
      absl::StatusOr<std::string> body = ReadExactly(static_cast<size_t>(len) + 2, deadline);
      if (!body.ok()) return body.status();
      if (body->compare(static_cast<size_t>(len), 2, "\r\n") != 0) {
        return absl::InternalError("redis: bulk string not terminated by CRLF");
      }
      body->resize(static_cast<size_t>(len));
      reply.type = RespReply::Type::kBulkString;
      reply.text = std::move(*body);
      return reply;
    }
    case '*': {
      int64_t count = 0;
      if (!absl::SimpleAtoi(rest, &count) || count < -1 || count > 1024 * 1024) {
        return absl::InternalError(absl::StrCat("redis: bad array length \"", rest, "\""));
      }
      if (count == -1) return reply;  // kNull
      reply.type = RespReply::Type::kArray;
      for (int64_t i = 0; i < count; ++i) {
        absl::StatusOr<RespReply> element = ReadReply(deadline, depth + 1);
        if (!element.ok()) return element.status();
        reply.elements.push_back(std::move(*element));
      }
      return reply;
    }
    default:
      return absl::InternalError(
          absl::StrCat("redis: unknown reply type '", line->substr(0, 1), "'"));
  }
}

absl::StatusOr<RespReply> RedisClient::Command(const std::vector<absl::string_view>& args) {
  if (fd_ < 0) {
    absl::Status s = Reconnect();
    if (!s.ok()) return s;
  }
  const absl::Time deadline = absl::Now() + timeout_;
  absl::Status sent = SendAll(EncodeRespCommand(args), deadline);
  if (!sent.ok()) {
    Close();
    return sent;
  }
  absl::StatusOr<RespReply> reply = ReadReply(deadline, 0);
  // Whatever went wrong, the stream's framing is lost: start over next time.
  if (!reply.ok()) Close();
  return reply;
}

absl::Status RedisClient::SendCommand(const std::vector<absl::string_view>& args) {
  if (fd_ < 0) {
    absl::Status s = Reconnect();
    if (!s.ok()) return s;
  }
  buffer_.erase(0, buffer_pos_);  // a reply taken whole leaves nothing of its own
  buffer_pos_ = 0;
  absl::Status sent = SendAll(EncodeRespCommand(args), absl::Now() + timeout_);
  if (!sent.ok()) Close();
  return sent;
}

absl::StatusOr<std::optional<RespReply>> RedisClient::TryTakeReply() {
  if (fd_ < 0) return absl::UnavailableError(absl::StrCat("redis: not connected to ", endpoint_));
  // Everything that has arrived (the socket is non-blocking); a short read means that
  // was all of it.
  for (;;) {
    absl::StatusOr<size_t> received = ReceiveSome();
    if (!received.ok()) {
      Close();
      return received.status();
    }
    if (*received < kReceiveChunk) break;
  }
  const size_t start = buffer_pos_;
  no_wait_ = true;
  absl::StatusOr<RespReply> reply = ReadReply(absl::InfiniteFuture(), 0);
  no_wait_ = false;
  if (reply.ok()) return std::optional<RespReply>(std::move(*reply));
  if (IsIncompleteReply(reply.status())) {
    buffer_pos_ = start;  // parsed again, whole, once the rest has arrived
    return std::optional<RespReply>();
  }
  Close();  // the stream's framing is lost
  return reply.status();
}

absl::Status RedisClient::Ping() {
  absl::StatusOr<RespReply> r = Command({"PING"});
  if (!r.ok()) return r.status();
  if (r->type == RespReply::Type::kError) return StatusFromRedisError(r->text);
  if (r->type != RespReply::Type::kSimpleString || r->text != "PONG") {
    return absl::InternalError("redis: PING not answered with PONG");
  }
  return absl::OkStatus();
}

absl::Status RedisClient::Set(absl::string_view key, absl::string_view value) {
  absl::StatusOr<RespReply> r = Command({"SET", key, value});
  if (!r.ok()) return r.status();
  if (r->type == RespReply::Type::kError) return StatusFromRedisError(r->text);
  if (r->type != RespReply::Type::kSimpleString || r->text != "OK") {
    return absl::InternalError("redis: SET not answered with OK");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RedisClient::Get(absl::string_view key) {
  return ValueCommand({"GET", key});
}

absl::StatusOr<std::optional<std::string>> RedisClient::HGet(absl::string_view hash,
                                                             absl::string_view field) {
  return ValueCommand({"HGET", hash, field});
}

absl::StatusOr<std::optional<std::string>> RedisClient::ValueCommand(
    const std::vector<absl::string_view>& args) {
  absl::StatusOr<RespReply> r = Command(args);
  if (!r.ok()) return r.status();
  return ValueFromReply(std::move(*r), args[0]);
}

absl::StatusOr<std::string> RedisClient::Info(absl::string_view section) {
  absl::StatusOr<RespReply> r = section.empty() ? Command({"INFO"}) : Command({"INFO", section});
  if (!r.ok()) return r.status();
  if (r->type == RespReply::Type::kError) return StatusFromRedisError(r->text);
  if (r->type != RespReply::Type::kBulkString) {
    return absl::InternalError("redis: INFO not answered with a bulk string");
  }
  return std::move(r->text);
}

}  // namespace kv::bench
