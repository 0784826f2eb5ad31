#ifndef KV_NODE_RESP_COMMANDS_H_
#define KV_NODE_RESP_COMMANDS_H_

// What a node's RESP read port (resp_server.h) answers. A namespace is a Redis hash whose
// fields are its keys, so reads need no new syntax:
//
//   HGET <namespace id> <key>            the value, or nil if missing or expired
//   HMGET <namespace id> <key> ...       up to 100 values (nil for each missing one)
//   HEXISTS <namespace id> <key>         1 if the key has a value, else 0
//   PING [message]                       PONG (or the message)
//   QUIT                                 OK, then the connection closes
//
// Reads see exactly what kv.v1.KV/Get sees on the same node, with the same checks and
// error texts (namespace id shape, "namespace not found", key rules, the 100-key and
// 25 MiB bulk limits). Writes are refused with a READONLY error: they go through the
// gRPC API, where the origin commits them. Command names are case-insensitive.
//
// Thread safety: thread-safe (the store and metrics are).

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "node/service_context.h"
#include "storage/store.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace kv::node {

class RespCommands {
 public:
  // `context` must outlive this object. `registry` (may be null: no metrics) gets
  // kv_resp_commands_total{command, result}.
  RespCommands(const ServiceContext* context, prometheus::Registry* registry);

  // Runs one command (args[0] is its name) and appends its reply to `out`. Returns false
  // if the connection is to close once the reply is sent (QUIT).
  // REQUIRES: !args.empty().
  bool Execute(const std::vector<absl::string_view>& args, std::string* out) const;

 private:
  enum class Command { kHget, kHmget, kHexists, kPing, kQuit, kOther, kCount };

  // Appends `value` as a bulk string, reading a chunked one chunk by chunk. Returns the
  // error without appending anything if a read fails.
  absl::Status AppendValue(const storage::StoredValue& value, std::string* out) const;
  void Count(Command command, bool ok) const;

  const ServiceContext* const ctx_;
  // [command][0: ok, 1: error]; null without a registry.
  prometheus::Counter* counters_[static_cast<int>(Command::kCount)][2] = {};
};

}  // namespace kv::node

#endif  // KV_NODE_RESP_COMMANDS_H_
