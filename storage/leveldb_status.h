#ifndef KV_STORAGE_LEVELDB_STATUS_H_
#define KV_STORAGE_LEVELDB_STATUS_H_

// The one place leveldb::Status becomes absl::Status (STYLE.md rule 8).

#include "absl/status/status.h"
#include "leveldb/status.h"

namespace kv::storage {

// Maps LevelDB errors to absl codes: corruption -> DATA_LOSS, I/O -> UNAVAILABLE
// (retrying later may help), not-found -> NOT_FOUND, the rest -> INTERNAL.
absl::Status FromLevelDbStatus(const leveldb::Status& s);

}  // namespace kv::storage

#endif  // KV_STORAGE_LEVELDB_STATUS_H_
