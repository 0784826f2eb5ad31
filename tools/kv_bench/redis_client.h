#ifndef KV_TOOLS_KV_BENCH_REDIS_CLIENT_H_
#define KV_TOOLS_KV_BENCH_REDIS_CLIENT_H_

// A minimal blocking Redis client (RESP2 over one TCP connection), just enough for
// kv-bench --backend redis to write to a master and read from its replicas: PING, SET,
// GET, HGET and INFO (HGET also reads an EdgeKV node's RESP port). One command in flight
// at a time, no pipelining, no pooling; a command can be sent and its reply taken later
// without blocking (SendCommand, TryTakeReply), so one thread can serve many connections.
//
// Status codes: UNAVAILABLE the server cannot be reached, closed the connection or
// answered LOADING / BUSY / MASTERDOWN / TRYAGAIN (retry later); DEADLINE_EXCEEDED no
// complete reply within the timeout; INVALID_ARGUMENT a bad endpoint or a Redis "ERR"
// reply; FAILED_PRECONDITION any other Redis error reply (READONLY, WRONGTYPE, ...);
// INTERNAL a reply that is not valid RESP. After an I/O error or a malformed reply the
// connection is closed (its framing is lost) and the next command reconnects.
//
// Thread safety: not thread-safe; give each thread its own RedisClient.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv::bench {

// One RESP2 reply.
struct RespReply {
  enum class Type { kSimpleString, kError, kInteger, kBulkString, kNull, kArray };
  Type type = Type::kNull;
  std::string text;  // simple string, error text or bulk string
  int64_t integer = 0;
  std::vector<RespReply> elements;  // kArray
};

// Returns `args` encoded as a RESP array of bulk strings (how clients send commands).
std::string EncodeRespCommand(const std::vector<absl::string_view>& args);

// Returns the status a Redis error reply ("ERR ...", "LOADING ...") means to a caller.
absl::Status StatusFromRedisError(absl::string_view error_text);

// Returns what the reply to `command` (GET, HGET: a bulk string or null) says: the value,
// nullopt for null, the error reply's status, INTERNAL for any other type.
absl::StatusOr<std::optional<std::string>> ValueFromReply(RespReply reply,
                                                          absl::string_view command);

class RedisClient {
 public:
  // Connects to `endpoint` ("127.0.0.1:6379"; the host must be an IPv4 address or
  // "localhost") with `timeout` bounding the connect and every later command.
  // INVALID_ARGUMENT for a malformed endpoint, UNAVAILABLE if the connection is refused,
  // DEADLINE_EXCEEDED if it does not complete in time.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Connect(const std::string& endpoint,
                                                              absl::Duration timeout);

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  ~RedisClient();

  // Sends PING; OK if the server answers PONG.
  absl::Status Ping();
  // Sets `key` to `value` (SET key value); OK once the server answered +OK.
  absl::Status Set(absl::string_view key, absl::string_view value);
  // Returns the value of `key` (GET key), or nullopt if it does not exist.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);
  // Returns field `field` of hash `hash` (HGET hash field), or nullopt if it does not exist.
  absl::StatusOr<std::optional<std::string>> HGet(absl::string_view hash, absl::string_view field);
  // Returns the text of INFO `section` ("replication"), or of every section if empty.
  absl::StatusOr<std::string> Info(absl::string_view section = "");

  // Sends one command and returns its reply; an error reply is returned as a reply of
  // type kError, not as a status. Reconnects first if the connection was closed.
  absl::StatusOr<RespReply> Command(const std::vector<absl::string_view>& args);

  // Split use, for one thread serving several connections: SendCommand() sends a command
  // (reconnecting first if the connection was closed); once fd() polls readable,
  // TryTakeReply() takes what has arrived without blocking and returns the reply, or
  // nullopt while it is incomplete. One command in flight at a time. A failure closes
  // the connection, as in Command().
  absl::Status SendCommand(const std::vector<absl::string_view>& args);
  absl::StatusOr<std::optional<RespReply>> TryTakeReply();
  // The connection's descriptor; -1 while closed.
  int fd() const { return fd_; }

 private:
  RedisClient(std::string endpoint, std::string host, int port, absl::Duration timeout);

  absl::Status Reconnect();
  void Close();
  absl::Status SendAll(absl::string_view bytes, absl::Time deadline);
  // Makes sure at least one unread byte is buffered.
  absl::Status Fill(absl::Time deadline);
  // Appends what one recv() returns to buffer_ without waiting: the byte count, 0 when
  // nothing has arrived; UNAVAILABLE when the connection closed or failed.
  absl::StatusOr<size_t> ReceiveSome();
  absl::StatusOr<std::string> ReadLine(absl::Time deadline);
  absl::StatusOr<std::string> ReadExactly(size_t n, absl::Time deadline);
  absl::StatusOr<RespReply> ReadReply(absl::Time deadline, int depth);
  // Runs a command answered by a bulk string or null (GET, HGET).
  absl::StatusOr<std::optional<std::string>> ValueCommand(
      const std::vector<absl::string_view>& args);

  // Constant after construction.
  const std::string endpoint_;
  const std::string host_;
  const int port_;
  const absl::Duration timeout_;

  int fd_ = -1;
  std::string buffer_;     // received, not yet parsed
  size_t buffer_pos_ = 0;  // first unparsed byte of buffer_
  // While set (TryTakeReply), Fill() never waits: with the buffer used up it fails with
  // an "incomplete" status and keeps the buffer for the next attempt.
  bool no_wait_ = false;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_REDIS_CLIENT_H_
