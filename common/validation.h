#ifndef KV_COMMON_VALIDATION_H_
#define KV_COMMON_VALIDATION_H_

// Input validation with the exact Workers KV error texts (../shared/SPEC.md). Every entry
// point (gRPC service, SDK, kvctl) calls these, so a rule and its message live only here.
// All functions are pure and thread-safe; failures are INVALID_ARGUMENT unless noted.

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv {

// Returns OK if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// Returns OK if `s` is one complete JSON value of any type.
bool IsValidJson(absl::string_view s);

// Checks a key: 1..512 UTF-8 bytes, valid UTF-8, not "." or "..".
absl::Status ValidateKey(absl::string_view key);

// Checks a list prefix: valid UTF-8 of at most 512 bytes (the empty prefix is fine).
absl::Status ValidatePrefix(absl::string_view prefix);

// Checks a value length against the 25 MiB limit.
absl::Status ValidateValueSize(int64_t size);

// Checks metadata: valid JSON of at most 1024 bytes as serialised.
absl::Status ValidateMetadata(absl::string_view json);

// Turns a put's optional `expiration` (absolute seconds) and `expiration_ttl` (seconds)
// into the absolute expiration to store, or 0 for "never". The TTL wins when both are
// given. Both must lie at least 60 s in the future of `now`.
absl::StatusOr<int64_t> ResolveExpiration(std::optional<int64_t> expiration,
                                          std::optional<int64_t> expiration_ttl,
                                          absl::Time now);

// Returns the list page size for an optional requested `limit` (default 1000).
absl::StatusOr<int> ResolveListLimit(std::optional<int64_t> limit);

// Checks the accepted-but-inert cache_ttl (minimum 30 s).
absl::Status ValidateCacheTtl(std::optional<int64_t> cache_ttl);

enum class BulkGetType { kText, kJson };

// Checks a bulk get's key count (1..100).
absl::Status ValidateBulkGetCount(int64_t count);

// Parses a bulk get type: "text" (also the default for "") or "json".
absl::StatusOr<BulkGetType> ParseBulkGetType(absl::string_view type);

// The bulk get error for a JSON read of a value that is not JSON.
absl::Status BulkGetNonJsonError();

// The bulk get error for a response over 25 MiB.
absl::Status BulkGetTooLargeError();

// Checks a bulk put or delete item count (1..10,000). `verb` is "write" or "delete".
absl::Status ValidateBulkWriteCount(int64_t count, absl::string_view verb);

// Checks the total size of a bulk put request against the 100 MiB limit.
absl::Status ValidateBulkRequestSize(int64_t bytes);

// Checks a namespace title: valid UTF-8 of 1..512 bytes.
absl::Status ValidateNamespaceTitle(absl::string_view title);

// Checks the shape of a namespace id: 32 lowercase hex characters.
absl::Status ValidateNamespaceId(absl::string_view id);

// NOT_FOUND "namespace not found".
absl::Status NamespaceNotFoundError();

// ALREADY_EXISTS for a title in use.
absl::Status NamespaceTitleTakenError();

}  // namespace kv

#endif  // KV_COMMON_VALIDATION_H_
