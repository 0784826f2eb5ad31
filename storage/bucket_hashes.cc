#include "storage/bucket_hashes.h"

namespace kv::storage {
namespace {

// FNV-1a 64 then a final avalanche (splitmix64): stable across processes and builds,
// which replicas comparing hashes need (absl::Hash is seeded per process).
uint64_t Mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

void Fnv(uint64_t& h, absl::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // Length-terminate, so ("ab","c") and ("a","bc") differ.
  for (int i = 0; i < 8; ++i) {
    h ^= (s.size() >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
}

}  // namespace

uint32_t BucketOf(absl::string_view ns_id, absl::string_view key) {
  uint64_t h = 14695981039346656037ull;
  Fnv(h, ns_id);
  Fnv(h, key);
  return static_cast<uint32_t>(Mix(h) % kBucketCount);
}

uint64_t VersionHash(absl::string_view ns_id, absl::string_view key, HlcTimestamp hlc,
                     absl::string_view origin) {
  uint64_t h = 0xcbf29ce484222325ull ^ 0x5a17;
  Fnv(h, ns_id);
  Fnv(h, key);
  for (int i = 0; i < 8; ++i) {
    h ^= (hlc >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
  Fnv(h, origin);
  return Mix(h);
}

void BucketHashes::Apply(uint32_t bucket, uint64_t delta) {
  absl::MutexLock lock(&mu_);
  hashes_[bucket % kBucketCount] ^= delta;
}

std::vector<uint64_t> BucketHashes::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return std::vector<uint64_t>(hashes_.begin(), hashes_.end());
}

uint64_t BucketHashes::Total() const {
  absl::MutexLock lock(&mu_);
  uint64_t h = 0;
  for (int i = 0; i < kBucketCount; ++i) h = Mix(h ^ hashes_[i] ^ static_cast<uint64_t>(i));
  return h;
}


}  // namespace kv::storage
