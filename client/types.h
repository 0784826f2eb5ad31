#ifndef KV_CLIENT_TYPES_H_
#define KV_CLIENT_TYPES_H_

// Value types of the EdgeKV C++ SDK, shaped after the Workers KV API.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/validation.h"

namespace kv {

struct Namespace {
  std::string id;     // 32 lowercase hex characters
  std::string title;
  bool operator==(const Namespace&) const = default;
};

// Options of a put. Expiration is an absolute time (whole seconds count) or a TTL; when
// both are set the TTL wins. Both must be at least 60 s ahead. No expiration = forever.
struct PutOptions {
  std::optional<absl::Time> expiration;
  std::optional<absl::Duration> expiration_ttl;
  std::optional<std::string> metadata;  // any JSON value, serialised, <= 1024 bytes
};

struct GetOptions {
  // Accepted for Workers KV compatibility (minimum 30 s); edges hold full replicas, so
  // it changes nothing.
  std::optional<absl::Duration> cache_ttl;
};

struct ValueWithMetadata {
  std::string value;
  std::optional<std::string> metadata;   // JSON text; nullopt reads as null
  std::optional<absl::Time> expiration;  // nullopt: never expires
  bool operator==(const ValueWithMetadata&) const = default;
};

struct BulkGetOptions {
  BulkGetType type = BulkGetType::kText;  // kJson fails unless every value is JSON
  bool with_metadata = false;
};

// Bulk get results by key; missing keys map to nullopt.
using BulkGetResult = std::map<std::string, std::optional<ValueWithMetadata>>;

struct BulkPutItem {
  std::string key;
  std::string value;
  PutOptions options;
};

struct KeyError {
  std::string key;
  std::string error;
  bool operator==(const KeyError&) const = default;
};

struct BulkPutResult {
  int64_t successful_key_count = 0;
  std::vector<KeyError> unsuccessful_keys;
};

struct ListOptions {
  std::string prefix;
  std::optional<int> limit;  // 1..1000, default 1000
  std::string cursor;        // from the previous ListResult
};

struct ListedKey {
  std::string name;
  std::optional<absl::Time> expiration;
  std::optional<std::string> metadata;
  bool operator==(const ListedKey&) const = default;
};

struct ListResult {
  std::vector<ListedKey> keys;
  bool list_complete = true;
  std::string cursor;  // set when !list_complete
};

}  // namespace kv

#endif  // KV_CLIENT_TYPES_H_
