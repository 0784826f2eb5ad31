#ifndef KV_NODE_RESP_PROTOCOL_H_
#define KV_NODE_RESP_PROTOCOL_H_

// The wire format of a node's RESP port (resp_server.h): RESP2, the Redis protocol,
// so any Redis client reads from an EdgeKV node. This file is the pure part: parsing
// commands out of a connection's input and encoding replies. It does no I/O.
//
// Commands arrive as RESP arrays of bulk strings ("*2\r\n$4\r\nPING\r\n...", what every
// client library sends) or as inline commands (a line of space-separated words, what a
// person types into telnet or nc). Both are bounded: a command that breaks a limit is a
// protocol error and the connection is closed after the error reply, as Redis does,
// because its framing is lost.
//
// Thread safety: the functions are pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kv::node {

// Limits of one command. A key is at most 512 bytes and a bulk read 100 keys, so a
// legitimate command is far below these.
inline constexpr int64_t kRespMaxArguments = 1024;
inline constexpr int64_t kRespMaxArgumentBytes = 64 * 1024;
inline constexpr size_t kRespMaxInlineBytes = 64 * 1024;
// A whole command (an incomplete one that is already longer is an error).
inline constexpr size_t kRespMaxCommandBytes = 1024 * 1024;

enum class RespParse {
  kCommand,     // `args` holds one command; `consumed` bytes of input were used
  kIncomplete,  // the input ends inside a command: read more and parse again
  kEmpty,       // an empty inline line; `consumed` bytes were used (skip them)
  kError,       // a protocol error; `error` says what (close the connection)
};

// Parses the first command of `input`. On kCommand the arguments point into `input` (valid
// while it is), `consumed` is the command's length. `error` is set on kError only, which
// includes an incomplete command already longer than kRespMaxCommandBytes.
RespParse ParseRespCommand(absl::string_view input, size_t* consumed,
                           std::vector<absl::string_view>* args, std::string* error);

// Reply encoders: each appends one reply to `out`.
void AppendSimpleString(absl::string_view text, std::string* out);  // +text
// -text, with CR and LF replaced by spaces (an error reply is one line). `text` starts
// with the error's kind in capitals ("ERR ...", "WRONGTYPE ...").
void AppendError(absl::string_view text, std::string* out);
void AppendInteger(int64_t value, std::string* out);        // :value
void AppendBulkString(absl::string_view data, std::string* out);  // $len data
void AppendBulkHeader(size_t length, std::string* out);     // $len (data and CRLF follow)
void AppendNull(std::string* out);                          // $-1 (a missing value)
void AppendArrayHeader(size_t count, std::string* out);     // *count (elements follow)

}  // namespace kv::node

#endif  // KV_NODE_RESP_PROTOCOL_H_
