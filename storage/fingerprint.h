#ifndef KV_STORAGE_FINGERPRINT_H_
#define KV_STORAGE_FINGERPRINT_H_

// A hash of a replica's data that only the log changes, recorded at every applied
// sequence number, so that two replicas can be compared while writes keep flowing: at a
// sequence both have applied, healthy replicas of one lineage hold the same fingerprint,
// and different ones mean one of them is damaged.
//
// The bucket hashes (bucket_hashes.h) cannot be compared that way: each replica's sweeper
// takes expired versions out at its own time, and a deleted namespace's keys leave when
// its purge gets to them. The fingerprint therefore counts only what nothing but a log
// entry changes: the XOR of VersionHash over live versions without an expiration, in
// namespaces not deleted. A namespace's share leaves the total at the log entry that
// deletes it; its later purge changes nothing.
//
// Damage to versions with an expiration is not seen here; the quiet-time comparison of
// the bucket hashes finds it.
//
// Points: the total after each applied sequence number, the last kPoints of them, but
// only where the replica's data is exactly the log's state at that number. A shipped log
// entry carries its key's current record at the sender, which may be a later write, so a
// replica that applies entries read at the sender's position R holds versions up to R:
// its points below R are not recorded (RaiseCleanFrom). A repair changes the data outside
// the log, so it also forgets the points it made stale (Forget).
// Thread-safe.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace kv::storage {

class Fingerprint {
 public:
  // About 8 s of points at 1,000 writes/s, in 128 KiB.
  static constexpr size_t kPoints = 8192;

  // XORs `delta` into the share of namespace `ns_id` (nothing if it was deleted).
  void Apply(absl::string_view ns_id, uint64_t delta);
  // Takes namespace `ns_id`'s share out of the total, for good.
  void DropNamespace(absl::string_view ns_id);
  // Records the current total as the point of `sequence`.
  void Record(uint64_t sequence);
  // Records no point below `clean_from` (this replica holds versions up to it).
  void RaiseCleanFrom(uint64_t clean_from);
  // Forgets every point and records none below `clean_from` (after a repair).
  void Forget(uint64_t clean_from);
  // Forgets every point; the next one recorded may be any sequence (a new lineage).
  void Reset();
  // Returns the sequence below which no point is recorded.
  uint64_t clean_from() const;

  // Returns the point of `sequence`, if it is still kept.
  std::optional<uint64_t> At(uint64_t sequence) const;
  uint64_t Total() const;

 private:
  mutable absl::Mutex mu_;
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint64_t> shares_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> dropped_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<uint64_t, uint64_t>> points_ ABSL_GUARDED_BY(mu_);  // ascending
  uint64_t clean_from_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_FINGERPRINT_H_
