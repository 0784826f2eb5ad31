#ifndef KV_COMMON_LIMITS_H_
#define KV_COMMON_LIMITS_H_

// The Workers KV limits EdgeKV enforces (../shared/SPEC.md), in one place for the node,
// the SDK and kvctl.

#include <cstddef>
#include <cstdint>

namespace kv {

inline constexpr int64_t kMaxKeyBytes = 512;
inline constexpr int64_t kMaxValueBytes = 25 * 1024 * 1024;  // 26,214,400
inline constexpr int64_t kMaxMetadataBytes = 1024;
inline constexpr int64_t kMinExpirationTtlSeconds = 60;
inline constexpr int64_t kMinCacheTtlSeconds = 30;
// The last second of the year 9999: later expirations (and TTLs reaching past it) are
// refused, which also keeps now + ttl from overflowing.
inline constexpr int64_t kMaxExpirationSeconds = 253402300799;
inline constexpr int64_t kMaxListLimit = 1000;
inline constexpr int64_t kDefaultListLimit = 1000;
inline constexpr int64_t kMaxBulkGetKeys = 100;
inline constexpr int64_t kMaxBulkGetResponseBytes = 25 * 1024 * 1024;
inline constexpr int64_t kMaxBulkWriteItems = 10000;
inline constexpr int64_t kMaxBulkRequestBytes = 100 * 1024 * 1024;
inline constexpr int64_t kMaxNamespaceTitleBytes = 512;
inline constexpr size_t kNamespaceIdLength = 32;  // lowercase hex

// Largest value part carried by one streamed message. Well under gRPC's 4 MiB default
// message limit, and the unit of memory a transfer holds at a time.
inline constexpr int64_t kStreamChunkBytes = 1024 * 1024;

// Largest single message a node accepts: a BulkDelete or BulkGet at its limits
// (10,000 keys of 512 bytes) plus framing.
inline constexpr int kMaxReceiveMessageBytes = 8 * 1024 * 1024;

}  // namespace kv

#endif  // KV_COMMON_LIMITS_H_
