#ifndef KV_TOOLS_KV_BENCH_KEY_SPACE_H_
#define KV_TOOLS_KV_BENCH_KEY_SPACE_H_

// Names of the benchmark's keys and how the preload splits them into BulkPut calls.
// Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/string_view.h"

namespace kv::bench {

// Returns `prefix` followed by `index` zero-padded to the width of `key_count - 1`, so
// byte order equals numeric order: KeyName("k/", 7, 1000) == "k/007".
// REQUIRES: 0 <= index < key_count.
std::string KeyName(absl::string_view prefix, int64_t index, int64_t key_count);

// Bytes a preload batch may carry (keys + values): well inside the 100 MiB BulkPut limit,
// and it bounds what the client holds in memory at once.
inline constexpr int64_t kPreloadBatchBytes = 32 * 1024 * 1024;

// Returns `size` random bytes: incompressible, so no store's compression flatters it.
std::string RandomValue(absl::BitGen& gen, int64_t size);

// A half-open range [begin, end) of key indexes written by one BulkPut.
struct KeyRange {
  int64_t begin = 0;
  int64_t end = 0;
  bool operator==(const KeyRange&) const = default;
};

// Returns consecutive ranges covering [0, key_count), each with at most 10,000 items
// and at most `max_batch_bytes` of key + value bytes, except that a range always holds
// at least one item. Empty if key_count <= 0.
std::vector<KeyRange> PlanPreloadBatches(int64_t key_count, int64_t key_bytes, int64_t value_bytes,
                                         int64_t max_batch_bytes = kPreloadBatchBytes);

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_KEY_SPACE_H_
