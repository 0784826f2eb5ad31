#include "replication/shipping.h"

#include "common/status_macros.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

absl::Status RecordToProto(const storage::ShippedRecord& r, v1::Record* out) {
  out->set_namespace_id(r.ns_id);
  out->set_key(r.key);
  out->set_hlc(r.hlc);
  out->set_origin(r.origin);
  out->set_tombstone(r.tombstone);
  out->set_expiration(r.expiration);
  if (r.metadata) out->set_metadata(*r.metadata);
  out->set_value_size(r.size);
  if (r.blob) {
    KV_ASSIGN_OR_RETURN(*out->mutable_value_chunk(), r.blob->ReadChunk(0));
  } else {
    out->set_value_chunk(r.inline_value);
  }
  return absl::OkStatus();
}

absl::Status EntryToProto(const storage::ShippedEntry& e, v1::LogEntry* out) {
  out->set_sequence(e.seq);
  out->set_hlc(e.entry.hlc);
  out->set_origin(e.entry.origin);
  switch (e.entry.kind) {
    case storage::LogKind::kNamespace:
      NamespaceToProto(e.entry.ns_id, *e.entry.ns_record, out->mutable_namespace_());
      return absl::OkStatus();
    case storage::LogKind::kPut:
    case storage::LogKind::kDelete:
      if (!e.record) {
        // The key's record is gone: its tombstone (a delete's, or the one an expired value
        // leaves) was collected, or its namespace was deleted. A replica may still need
        // the entry: one that lost it after saying it had applied it (a killed edge's held
        // log tail, a power loss) holds an older value that it must drop. So it ships as
        // a tombstone at the entry's version, whether the entry was a put or a delete;
        // last-writer-wins keeps that from undoing anything newer, and a replica skips it
        // in a deleted namespace.
        v1::Record* d = out->mutable_deleted();
        d->set_namespace_id(e.entry.ns_id);
        d->set_key(e.entry.key);
        d->set_hlc(e.entry.hlc);
        d->set_origin(e.entry.origin);
        d->set_tombstone(true);
        return absl::OkStatus();
      }
      return RecordToProto(*e.record, out->mutable_record());
    case storage::LogKind::kNoop:
      out->set_noop(true);
      return absl::OkStatus();
  }
  return absl::InternalError("unknown log entry kind");
}

void NamespaceToProto(const std::string& id, const storage::NamespaceRecord& record,
                      v1::NamespaceRecord* out) {
  out->set_namespace_id(id);
  out->set_title(record.title);
  out->set_hlc(record.hlc);
  out->set_origin(record.origin);
  out->set_tombstone(record.tombstone);
}

storage::PutNamespaceRecord NamespaceFromProto(const v1::NamespaceRecord& ns) {
  return storage::PutNamespaceRecord{
      ns.namespace_id(), storage::NamespaceRecord{ns.hlc(), ns.origin(), ns.tombstone(), ns.title()}};
}

storage::Mutation EntryToMutation(const v1::LogEntry& e, storage::Sequencing sequencing,
                                  storage::ValueRef value) {
  storage::Mutation m;
  m.sequencing = sequencing;
  m.seq = e.sequence();
  m.hlc = e.hlc();
  m.log_hlc = e.hlc();
  m.origin = e.origin();
  const v1::Record* r = RecordOf(e);
  if (r != nullptr) {
    // The record may be newer than the entry: its own version is what gets applied.
    m.hlc = r->hlc();
    m.origin = r->origin();
    if (r->tombstone()) {
      m.op = storage::DeleteValue{r->namespace_id(), r->key()};
    } else {
      storage::PutValue put;
      put.ns_id = r->namespace_id();
      put.key = r->key();
      put.inline_value = std::move(value.inline_value);
      put.blob = value.blob;
      put.expiration = r->expiration();
      if (r->has_metadata()) put.metadata = r->metadata();
      m.op = std::move(put);
    }
  } else if (e.has_namespace_()) {
    m.op = NamespaceFromProto(e.namespace_());
  } else {
    m.op = storage::Noop{};
  }
  return m;
}

}  // namespace kv::replication
