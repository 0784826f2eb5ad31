#ifndef KV_TOOLS_KVCTL_BULK_FILE_H_
#define KV_TOOLS_KVCTL_BULK_FILE_H_

// The `wrangler kv bulk` file formats, and how kvctl splits their items into requests.
//
// bulk put: a JSON array of objects
//   [{"key": "k", "value": "v", "expiration": 1700000000, "expiration_ttl": 3600,
//     "metadata": {...}, "base64": false}, ...]
// where "key" and "value" are required strings, the value is UTF-8 text unless
// "base64" is true (then it is decoded), "expiration" (seconds since the UNIX epoch) and
// "expiration_ttl" (seconds) are integers, and "metadata" is any JSON value. A null
// optional field counts as absent.
//
// bulk get / bulk delete: a JSON array whose items are key strings or objects with a
// "key" string (so a bulk put file can be reused).
//
// Parsing checks only the file's shape; the rules a node applies per key (expiration in
// the future, metadata size...) are left to the node, which reports them per key. Error
// messages are INVALID_ARGUMENT and read "<command>: item <index>: <problem>", items
// numbered from 0 as in the JSON array. All functions are pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/types.h"

namespace kv::kvctl {

struct BulkPutFile {
  std::vector<BulkPutItem> items;  // in file order
  // Non-fatal findings (unknown fields, which wrangler also ignores), at most a dozen
  // lines, each ready to print.
  std::vector<std::string> warnings;
};

// Parses a bulk put file. INVALID_ARGUMENT naming the item and field when the file is not
// a JSON array of well-formed items.
absl::StatusOr<BulkPutFile> ParseBulkPutFile(absl::string_view text);

// Parses a bulk get or delete file into its keys, in file order. `command` ("bulk get",
// "bulk delete") starts the error messages. Each key must also pass kv::ValidateKey, whose
// message is reported with the item index: a node would refuse the whole request.
absl::StatusOr<std::vector<std::string>> ParseBulkKeyFile(absl::string_view text,
                                                          absl::string_view command);

// Returns the bytes `item` counts towards a bulk put request's size limit: key + value +
// metadata, as the SDK and the node count them.
int64_t BulkPutItemBytes(const BulkPutItem& item);

// A half-open range [begin, end) of item indexes sent as one request.
struct Batch {
  size_t begin = 0;
  size_t end = 0;
  bool operator==(const Batch&) const = default;
};

// Splits items of the given sizes, in order, into the fewest consecutive batches of at
// most `max_items` items and at most `max_bytes` bytes each. An item larger than
// `max_bytes` gets a batch of its own. Returns no batch for no items.
// REQUIRES: max_items >= 1.
std::vector<Batch> SplitIntoBatches(const std::vector<int64_t>& item_bytes, int64_t max_items,
                                    int64_t max_bytes);

// Splits `count` items into batches of at most `max_items`. REQUIRES: max_items >= 1.
std::vector<Batch> SplitByCount(size_t count, int64_t max_items);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_BULK_FILE_H_
