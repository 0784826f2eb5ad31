#ifndef KV_REPLICATION_SHIPPING_H_
#define KV_REPLICATION_SHIPPING_H_

// Conversions between the store's view of log entries and records and the
// kv.replication.v1 messages that carry them.

#include "absl/status/statusor.h"
#include "kv/replication/v1/replication.pb.h"
#include "storage/mutation.h"
#include "storage/store.h"

namespace kv::replication {

// Fills `out` with `entry`. A record's value_chunk holds the whole inline value, or the
// first chunk of a chunked one (reading it may fail: DATA_LOSS).
absl::Status EntryToProto(const storage::ShippedEntry& entry, kv::replication::v1::LogEntry* out);
// Fills `out` with `record` (value as in EntryToProto).
absl::Status RecordToProto(const storage::ShippedRecord& record,
                           kv::replication::v1::Record* out);

// Fills `out` with namespace `id`'s record, and back.
void NamespaceToProto(const std::string& id, const storage::NamespaceRecord& record,
                      kv::replication::v1::NamespaceRecord* out);
storage::PutNamespaceRecord NamespaceFromProto(const kv::replication::v1::NamespaceRecord& ns);

// Returns the record an entry carries (its live version or its tombstone), or null.
inline const kv::replication::v1::Record* RecordOf(const kv::replication::v1::LogEntry& e) {
  if (e.has_record()) return &e.record();
  if (e.has_deleted()) return &e.deleted();
  return nullptr;
}

// Returns the mutation applying `entry` with the given sequencing, its value taken from
// `value` (the reassembled inline value or a blob already stored here).
storage::Mutation EntryToMutation(const kv::replication::v1::LogEntry& entry,
                                  storage::Sequencing sequencing, storage::ValueRef value);

}  // namespace kv::replication

#endif  // KV_REPLICATION_SHIPPING_H_
