#ifndef KV_STORAGE_RECORD_H_
#define KV_STORAGE_RECORD_H_

// The value stored under a data key ('d'), and under a namespace key ('n'). One format
// serves a single node and a replicated cluster: it carries the commit timestamp and
// origin used for last-writer-wins, a tombstone flag, the absolute expiration and the
// metadata. Values up to StoreOptions::inline_value_limit live in the record; larger
// ones are chunked under 'c' keys and the record names the blob. Layout in
// doc/storage.md. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/hybrid_clock.h"

namespace kv::storage {

// A large value stored as chunks c<id><0..n-1>, each `chunk_bytes` long but the last.
struct BlobRef {
  uint64_t id = 0;
  int64_t size = 0;
  int64_t chunk_bytes = 0;

  uint32_t chunk_count() const {
    return chunk_bytes == 0 ? 0 : static_cast<uint32_t>((size + chunk_bytes - 1) / chunk_bytes);
  }
  bool operator==(const BlobRef&) const = default;
};

// The version that wins under last-writer-wins: the later HLC timestamp, ties broken by
// the larger origin id. Returns true when (a_hlc, a_origin) beats (b_hlc, b_origin).
inline bool Supersedes(HlcTimestamp a_hlc, absl::string_view a_origin, HlcTimestamp b_hlc,
                       absl::string_view b_origin) {
  return a_hlc != b_hlc ? a_hlc > b_hlc : a_origin > b_origin;
}

// A decoded data record. Views point into the encoded bytes, which must outlive it.
struct RecordView {
  HlcTimestamp hlc = 0;
  absl::string_view origin;
  bool tombstone = false;
  int64_t expiration = 0;  // seconds since the Unix epoch; 0 = never
  std::optional<absl::string_view> metadata;
  std::optional<BlobRef> blob;    // set for chunked values
  absl::string_view inline_value;  // the value when blob is unset

  int64_t value_size() const {
    return blob ? blob->size : static_cast<int64_t>(inline_value.size());
  }
  // Returns true if the key is live (not deleted, not expired) at `now_seconds`.
  bool LiveAt(int64_t now_seconds) const {
    return !tombstone && (expiration == 0 || now_seconds < expiration);
  }
};

struct RecordFields {
  HlcTimestamp hlc = 0;
  absl::string_view origin;
  bool tombstone = false;
  int64_t expiration = 0;
  std::optional<absl::string_view> metadata;
  std::optional<BlobRef> blob;
  absl::string_view inline_value;
};

// Returns the encoded record.
std::string EncodeRecord(const RecordFields& fields);
// Decodes `encoded` into `out`; returns false if it is corrupt.
bool DecodeRecord(absl::string_view encoded, RecordView* out);

// A namespace record. Deleted namespaces keep a tombstone so no late write revives them.
struct NamespaceRecord {
  HlcTimestamp hlc = 0;
  std::string origin;
  bool tombstone = false;
  std::string title;
};

std::string EncodeNamespaceRecord(const NamespaceRecord& record);
bool DecodeNamespaceRecord(absl::string_view encoded, NamespaceRecord* out);

}  // namespace kv::storage

#endif  // KV_STORAGE_RECORD_H_
