#ifndef KV_NODE_RESP_COMMANDS_H_
#define KV_NODE_RESP_COMMANDS_H_

// What a node's RESP port (resp_server.h) answers. A namespace is a Redis hash whose
// fields are its keys, so reads need no new syntax:
//
//   HGET <namespace id> <key>            the value, or nil if missing or expired
//   HMGET <namespace id> <key> ...       up to 100 values (nil for each missing one)
//   HEXISTS <namespace id> <key>         1 if the key has a value, else 0
//   PING [message]                       PONG (or the message)
//   QUIT                                 OK, then the connection closes
//
// and, on the origin, writes (Redis has no command with Workers KV's semantics, so they
// carry their own names, as Redis modules' commands do):
//
//   KV.PUT <namespace id> <key> <value> [EXPIRATION <unix s>] [EXPIRATION_TTL <s>]
//          [METADATA <json>]             the replication sequence it committed at
//   KV.DELETE <namespace id> <key>       the same (deleting a missing key succeeds)
//
// Reads see exactly what kv.v1.KV/Get sees on the same node, and writes are what
// kv.v1.KV/Put and Delete do on the origin, with the same checks and error texts
// (namespace id shape, "namespace not found", key, value, metadata and expiration rules,
// the 100-key and 25 MiB bulk limits). A write is answered once it is durable. A value
// is bounded by the protocol's argument limit (64 KiB, resp_protocol.h); larger ones go
// through the gRPC API. An edge answers writes with READONLY (its gRPC API forwards
// them; this port does not), as does every node for Redis's own write commands (SET,
// HSET, DEL, ...). Command names are case-insensitive.
//
// Thread safety: thread-safe (the store and metrics are).

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include "node/service_context.h"
#include "storage/store.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace kv::node {

// A write a command asks for (KV.PUT or KV.DELETE): the server hands it to
// RespCommands::Commit.
using RespWrite = std::variant<storage::PutValue, storage::DeleteValue>;

class RespCommands {
 public:
  using ReplyDone = absl::AnyInvocable<void(std::string reply)>;

  // `context` must outlive this object. `registry` (may be null: no metrics) gets
  // kv_resp_commands_total{command, result}.
  RespCommands(const ServiceContext* context, prometheus::Registry* registry);

  // Runs one command (args[0] is its name) and appends its reply to `out`, or, for a
  // valid write, sets `*write` and appends nothing: its reply comes from Commit. Returns
  // false if the connection is to close once the reply is sent (QUIT).
  // REQUIRES: !args.empty().
  bool Execute(const std::vector<absl::string_view>& args, std::string* out,
               std::optional<RespWrite>* write) const;

  // Commits `write` and calls `done` with its reply (the sequence, or the error) once it
  // is durable or failed, on the store's committer thread (or on this one).
  void Commit(RespWrite write, ReplyDone done) const;

 private:
  enum class Command { kHget, kHmget, kHexists, kPing, kQuit, kKvPut, kKvDelete, kOther, kCount };

  // Appends `value` as a bulk string, reading a chunked one chunk by chunk. Returns the
  // error without appending anything if a read fails.
  absl::Status AppendValue(const storage::StoredValue& value, std::string* out) const;
  void Count(Command command, bool ok) const;
  // Parses and checks KV.PUT / KV.DELETE (args[0] is the name): the write, or the error.
  absl::StatusOr<RespWrite> ParseWrite(Command command,
                                       const std::vector<absl::string_view>& args) const;
  // Commits `mutation` and replies with its sequence (or the error) through `done`.
  void CommitMutation(Command command, storage::Mutation mutation, ReplyDone done) const;

  const ServiceContext* const ctx_;
  // [command][0: ok, 1: error]; null without a registry.
  prometheus::Counter* counters_[static_cast<int>(Command::kCount)][2] = {};
};

}  // namespace kv::node

#endif  // KV_NODE_RESP_COMMANDS_H_
