#ifndef KV_TOOLS_KVCTL_KEY_COMMANDS_H_
#define KV_TOOLS_KVCTL_KEY_COMMANDS_H_

// `kvctl key put|get|delete|list`. Each returns the process exit code (command_io.h)
// after writing its result to io.out or its error to io.err. Key, value, metadata and
// expiration rules are checked by the SDK and the node, whose exact messages are shown.

#include <cstdint>
#include <optional>
#include <string>

#include "client/client.h"
#include "tools/kvctl/command_io.h"

namespace kv::kvctl {

struct PutKeyArgs {
  std::string namespace_id;
  std::string key;
  // Exactly one of `value` (the text given on the command line) and `path` (a file read
  // as raw bytes, "-" for stdin) must be set; otherwise the command is a usage error.
  std::optional<std::string> value;
  std::optional<std::string> path;
  std::optional<int64_t> ttl_seconds;         // expiration_ttl; wins over `expiration`
  std::optional<int64_t> expiration_seconds;  // absolute, seconds since the UNIX epoch
  // Any JSON value; sent re-serialised compactly when it parses, else as given (and the
  // SDK reports "metadata must be valid json").
  std::optional<std::string> metadata;
};

// Writes one key; prints {"success": true}.
int PutKeyCommand(const Client& client, const PutKeyArgs& args, const CommandIo& io);

struct GetKeyArgs {
  std::string namespace_id;
  std::string key;
  bool with_metadata = false;
};

// Writes the raw value bytes to io.out (nothing added), or with `with_metadata` the JSON
// of GetWithMetadataToJson. A missing key prints "Value not found" on io.err and returns
// kExitNotFound.
int GetKeyCommand(const Client& client, const GetKeyArgs& args, const CommandIo& io);

// Deletes one key (absent keys are fine); prints {"success": true}.
int DeleteKeyCommand(const Client& client, const std::string& namespace_id, const std::string& key,
                     const CommandIo& io);

struct ListKeysArgs {
  std::string namespace_id;
  std::string prefix;
  std::optional<int64_t> limit;       // set: print one page of at most `limit` keys
  std::optional<std::string> cursor;  // set: print the page after this cursor
};

// Without limit and cursor, follows every page and prints [{"name", "expiration"?,
// "metadata"?}, ...]. With either, prints one page as {"keys": [...], "list_complete",
// "cursor"?} where "cursor" is present only when list_complete is false.
int ListKeysCommand(const Client& client, const ListKeysArgs& args, const CommandIo& io);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_KEY_COMMANDS_H_
