#ifndef KV_STORAGE_LOG_ENTRY_H_
#define KV_STORAGE_LOG_ENTRY_H_

// One entry of the replication log ('l' keys, doc/storage.md): which mutation got which
// sequence number. Put and delete entries name the key and the version written; the data
// itself is read from the key's current record when the entry is shipped, so values are
// stored once. Namespace entries carry the whole (small) namespace record.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/hybrid_clock.h"
#include "storage/record.h"

namespace kv::storage {

enum class LogKind : uint8_t {
  kPut = 1,
  kDelete = 2,
  kNamespace = 3,
  // A sequence number whose mutation no longer has anything to ship (for example, its
  // namespace was deleted and purged). Applying it only advances the sequence.
  kNoop = 4,
};

struct LogEntry {
  LogKind kind = LogKind::kNoop;
  HlcTimestamp hlc = 0;
  std::string origin;
  std::string ns_id;
  std::string key;                         // kPut, kDelete
  std::optional<NamespaceRecord> ns_record;  // kNamespace
};

std::string EncodeLogEntry(const LogEntry& entry);
// Returns false if `encoded` is not a valid entry.
bool DecodeLogEntry(absl::string_view encoded, LogEntry* out);

}  // namespace kv::storage

#endif  // KV_STORAGE_LOG_ENTRY_H_
