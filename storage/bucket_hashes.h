#ifndef KV_STORAGE_BUCKET_HASHES_H_
#define KV_STORAGE_BUCKET_HASHES_H_

// A summary of a replica's data for anti-entropy: keys are spread over kBucketCount
// buckets by a hash of (namespace, key); a bucket's hash is the XOR of the hashes of the
// live versions in it (namespace, key, hlc, origin). XOR makes the summary incremental
// (replace a version: XOR the old one out, the new one in) and independent of the order
// writes arrived in, so two replicas holding the same versions have equal hashes.
// Tombstones do not count, so dropping them later (garbage collection) changes nothing.
// Thread-safe.

#include <array>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/hybrid_clock.h"

namespace kv::storage {

inline constexpr int kBucketCount = 1024;

// Returns the bucket of (ns_id, key).
uint32_t BucketOf(absl::string_view ns_id, absl::string_view key);
// Returns the contribution of one live version to its bucket's hash.
uint64_t VersionHash(absl::string_view ns_id, absl::string_view key, HlcTimestamp hlc,
                     absl::string_view origin);

class BucketHashes {
 public:
  // XORs `delta` into `bucket`.
  void Apply(uint32_t bucket, uint64_t delta);
  // Returns every bucket's hash.
  std::vector<uint64_t> Snapshot() const;
  // Returns one hash over all buckets (equal summaries have equal totals).
  uint64_t Total() const;

 private:
  mutable absl::Mutex mu_;
  std::array<uint64_t, kBucketCount> hashes_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace kv::storage

#endif  // KV_STORAGE_BUCKET_HASHES_H_
