#ifndef KV_TOOLS_KVCTL_BULK_COMMANDS_H_
#define KV_TOOLS_KVCTL_BULK_COMMANDS_H_

// `kvctl bulk put|get|delete FILE`. The file (bulk_file.h formats; "-" reads io.in) is
// read and validated whole before any request is sent: a malformed file writes nothing
// and returns kExitUsage. Items are then sent in requests within the Workers KV limits,
// drawing a progress bar on io.progress when the job needs more than one request. A
// failed request stops the job with kExitError; requests already sent stay applied.

#include <string>

#include "client/client.h"
#include "tools/kvctl/command_io.h"

namespace kv::kvctl {

struct BulkArgs {
  std::string namespace_id;
  std::string file;            // path, or "-" for io.in
  bool with_metadata = false;  // bulk get only
};

// Writes the items in requests of at most kMaxBulkWriteItems items and
// kMaxBulkRequestBytes bytes. Items that can never be written (invalid key, value over
// 25 MiB, metadata over 1024 bytes) are not sent and reported like the node reports
// them. Prints {"successful_key_count", "unsuccessful_keys": [{"key", "error"}]};
// returns kExitError when any key failed.
int BulkPutCommand(const Client& client, const BulkArgs& args, const CommandIo& io);

// Reads the keys in requests of at most kMaxBulkGetKeys (smaller when a response would
// exceed 25 MiB). Prints {key: value-or-null} in file order (duplicates once), or with
// with_metadata {key: {"value", "metadata"} or null}. Values that are not UTF-8 appear
// as {"base64": "..."}.
int BulkGetCommand(const Client& client, const BulkArgs& args, const CommandIo& io);

// Deletes the keys in requests of at most kMaxBulkWriteItems; prints
// {"successful_key_count"}.
int BulkDeleteCommand(const Client& client, const BulkArgs& args, const CommandIo& io);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_BULK_COMMANDS_H_
