#include "storage/mutation_applier.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "storage/keys.h"

namespace kv::storage {
namespace {

absl::Status Corrupt(absl::string_view key) {
  return absl::DataLossError(absl::StrCat("storage: corrupt record under key of ", key.size(),
                                          " bytes"));
}

// Reads the current record of `data_key` into `*raw` / `*view`; false when absent.
absl::StatusOr<bool> ReadRecord(Txn& txn, const std::string& data_key, std::string* raw,
                                RecordView* view) {
  KV_ASSIGN_OR_RETURN(std::optional<std::string> current, txn.Get(data_key));
  if (!current) return false;
  *raw = std::move(*current);
  if (!DecodeRecord(*raw, view)) return Corrupt(data_key);
  return true;
}

// Like ReadRecord, for a record about to be replaced: one that does not decode is
// treated as absent, so any write (a repair above all) can replace it. Whatever it
// referred to (chunks, expiry entry) cannot be known and stays until a later cleanup.
absl::StatusOr<bool> ReadRecordToReplace(Txn& txn, const std::string& data_key, std::string* raw,
                                         RecordView* view) {
  absl::StatusOr<bool> exists = ReadRecord(txn, data_key, raw, view);
  if (exists.status().code() == absl::StatusCode::kDataLoss) {
    KV_LOG_WARNING("replacing a corrupt record (key of ", data_key.size(), " bytes)");
    return false;
  }
  return exists;
}

}  // namespace

absl::Status MutationApplier::Apply(Txn& txn, Mutation& m) {
  switch (m.sequencing) {
    case Sequencing::kAssign:
      if (m.hlc == 0) {
        m.hlc = clock_->Now();
        m.origin = node_id_;
      } else {
        clock_->Observe(m.hlc);
      }
      break;
    case Sequencing::kReplicated:
      if (m.seq <= txn.sequence()) return absl::OkStatus();  // delivered twice
      if (m.seq != txn.sequence() + 1) {
        return absl::FailedPreconditionError(absl::StrCat(
            "replication gap: next sequence is ", txn.sequence() + 1, ", got ", m.seq));
      }
      clock_->Observe(m.hlc);
      break;
    case Sequencing::kRepair:
      clock_->Observe(m.hlc);
      break;
  }
  LogEntry entry;
  entry.hlc = m.log_hlc != 0 ? m.log_hlc : m.hlc;
  entry.origin = m.origin;
  absl::Status s;
  if (auto* put = std::get_if<PutValue>(&m.op)) {
    s = ApplyPut(txn, m, *put, &entry);
  } else if (auto* del = std::get_if<DeleteValue>(&m.op)) {
    s = ApplyDelete(txn, m, *del, &entry);
  } else if (std::holds_alternative<Noop>(m.op)) {
    entry.kind = LogKind::kNoop;
  } else {
    s = ApplyNamespace(txn, m, &entry);
  }
  if (!s.ok() || m.sequencing == Sequencing::kRepair) return s;
  const uint64_t seq = txn.NextSequence();
  txn.Put(keys::Log(seq), EncodeLogEntry(entry));
  txn.OnDurable([fingerprint = fingerprint_, seq] { fingerprint->Record(seq); });
  return absl::OkStatus();
}

void MutationApplier::FreeBlob(Txn& txn, const BlobRef& blob) {
  for (uint32_t i = 0; i < blob.chunk_count(); ++i) txn.Delete(keys::Chunk(blob.id, i));
  txn.Delete(keys::Upload(blob.id));
}

void MutationApplier::StageHash(Txn& txn, absl::string_view ns_id, absl::string_view key,
                                HlcTimestamp hlc, absl::string_view origin, int64_t expiration) {
  const uint64_t delta = VersionHash(ns_id, key, hlc, origin);
  // One action for both (each is a heap allocation per write).
  Fingerprint* const fingerprint = expiration == 0 ? fingerprint_ : nullptr;
  txn.OnDurable([hashes = hashes_, bucket = BucketOf(ns_id, key), delta, fingerprint,
                 ns = fingerprint != nullptr ? std::string(ns_id) : std::string()] {
    hashes->Apply(bucket, delta);
    if (fingerprint != nullptr) fingerprint->Apply(ns, delta);
  });
}

void MutationApplier::Retire(Txn& txn, const RecordView& old, absl::string_view ns_id,
                             absl::string_view key, const std::optional<BlobRef>& keep_blob) {
  if (old.blob && !(keep_blob && keep_blob->id == old.blob->id)) FreeBlob(txn, *old.blob);
  if (old.expiration != 0) txn.Delete(keys::Expiry(old.expiration, ns_id, key));
  if (old.tombstone) {
    txn.Delete(keys::Tombstone(old.hlc, ns_id, key));
  } else {
    StageHash(txn, ns_id, key, old.hlc, old.origin, old.expiration);
  }
}

absl::Status MutationApplier::ApplyPut(Txn& txn, const Mutation& m, PutValue& put,
                                       LogEntry* entry) {
  entry->kind = LogKind::kPut;
  entry->ns_id = put.ns_id;
  entry->key = put.key;
  if (!NamespaceLive(txn, put.ns_id)) {
    if (put.blob) FreeBlob(txn, *put.blob);
    // The origin refuses it; a replica skips it (the namespace was deleted since).
    return m.sequencing == Sequencing::kAssign ? NamespaceNotFoundError() : absl::OkStatus();
  }
  const std::string data_key = keys::Data(put.ns_id, put.key);
  std::string raw;
  RecordView old;
  KV_ASSIGN_OR_RETURN(const bool exists, ReadRecordToReplace(txn, data_key, &raw, &old));
  if (exists) {
    const bool same = old.hlc == m.hlc && old.origin == m.origin;
    if (same || Supersedes(old.hlc, old.origin, m.hlc, m.origin)) {
      // A replay, or a newer write already won.
      if (put.blob && !(same && old.blob && old.blob->id == put.blob->id)) {
        FreeBlob(txn, *put.blob);
      }
      return absl::OkStatus();
    }
    Retire(txn, old, put.ns_id, put.key, put.blob);
  }
  RecordFields fields;
  fields.hlc = m.hlc;
  fields.origin = m.origin;
  fields.expiration = put.expiration;
  if (put.metadata) fields.metadata = *put.metadata;
  fields.blob = put.blob;
  fields.inline_value = put.inline_value;
  txn.Put(data_key, EncodeRecord(fields));
  if (put.expiration != 0) txn.Put(keys::Expiry(put.expiration, put.ns_id, put.key), "");
  if (put.blob) txn.Delete(keys::Upload(put.blob->id));  // the upload is now owned
  StageHash(txn, put.ns_id, put.key, m.hlc, m.origin, put.expiration);
  return absl::OkStatus();
}

absl::Status MutationApplier::ApplyDelete(Txn& txn, const Mutation& m, const DeleteValue& del,
                                          LogEntry* entry) {
  entry->kind = LogKind::kDelete;
  entry->ns_id = del.ns_id;
  entry->key = del.key;
  if (!NamespaceLive(txn, del.ns_id)) {
    return m.sequencing == Sequencing::kAssign ? NamespaceNotFoundError() : absl::OkStatus();
  }
  const std::string data_key = keys::Data(del.ns_id, del.key);
  std::string raw;
  RecordView old;
  KV_ASSIGN_OR_RETURN(const bool exists, ReadRecordToReplace(txn, data_key, &raw, &old));
  if (exists) {
    if (old.hlc == m.hlc && old.origin == m.origin) return absl::OkStatus();
    if (Supersedes(old.hlc, old.origin, m.hlc, m.origin)) return absl::OkStatus();
    Retire(txn, old, del.ns_id, del.key, std::nullopt);
  }
  RecordFields tombstone;
  tombstone.hlc = m.hlc;
  tombstone.origin = m.origin;
  tombstone.tombstone = true;
  txn.Put(data_key, EncodeRecord(tombstone));
  txn.Put(keys::Tombstone(m.hlc, del.ns_id, del.key), "");
  return absl::OkStatus();
}

bool MutationApplier::NamespaceLive(const Txn& txn, absl::string_view ns_id) const {
  if (std::optional<std::optional<std::string>> staged = txn.Staged(keys::Namespace(ns_id))) {
    NamespaceRecord record;
    return staged->has_value() && DecodeNamespaceRecord(**staged, &record) && !record.tombstone;
  }
  return catalog_->IsLive(ns_id);
}

void MutationApplier::StageNamespace(Txn& txn, const std::string& id,
                                     const NamespaceRecord& next) {
  txn.Put(keys::Namespace(id), EncodeNamespaceRecord(next));
  if (next.tombstone) {
    txn.OnDurable([fingerprint = fingerprint_, id] { fingerprint->DropNamespace(id); });
  }
  txn.OnDurable([catalog = catalog_, id, next]() mutable { catalog->Set(id, std::move(next)); });
}

absl::Status MutationApplier::ApplyNamespace(Txn& txn, const Mutation& m, LogEntry* entry) {
  entry->kind = LogKind::kNamespace;
  if (const auto* replicated = std::get_if<PutNamespaceRecord>(&m.op)) {
    entry->ns_id = replicated->ns_id;
    entry->ns_record = replicated->record;
    std::optional<NamespaceRecord> current;
    if (auto staged = txn.Staged(keys::Namespace(replicated->ns_id)); staged && *staged) {
      NamespaceRecord record;
      if (DecodeNamespaceRecord(**staged, &record)) current = std::move(record);
    } else {
      current = catalog_->Find(replicated->ns_id);
    }
    if (!current || Supersedes(replicated->record.hlc, replicated->record.origin, current->hlc,
                               current->origin)) {
      StageNamespace(txn, replicated->ns_id, replicated->record);
    }
    return absl::OkStatus();
  }
  NamespaceRecord next;
  next.hlc = m.hlc;
  next.origin = m.origin;
  std::string id;
  if (const auto* create = std::get_if<CreateNamespace>(&m.op)) {
    id = create->ns_id;
    if (catalog_->Find(id)) return absl::AlreadyExistsError("namespace id already exists");
    if (catalog_->FindLiveByTitle(create->title)) return NamespaceTitleTakenError();
    next.title = create->title;
  } else if (const auto* rename = std::get_if<RenameNamespace>(&m.op)) {
    id = rename->ns_id;
    std::optional<NamespaceRecord> current = catalog_->Find(id);
    if (!current || current->tombstone) return NamespaceNotFoundError();
    std::optional<std::string> holder = catalog_->FindLiveByTitle(rename->title);
    if (holder && *holder != id) return NamespaceTitleTakenError();
    next.title = rename->title;
  } else {
    id = std::get<DeleteNamespace>(m.op).ns_id;
    std::optional<NamespaceRecord> current = catalog_->Find(id);
    if (!current || current->tombstone) return NamespaceNotFoundError();
    next.title = current->title;
    next.tombstone = true;
  }
  entry->ns_id = id;
  entry->ns_record = next;
  StageNamespace(txn, id, next);
  return absl::OkStatus();
}

absl::Status MutationApplier::Expire(Txn& txn, absl::string_view ns_id, absl::string_view key,
                                     int64_t now_seconds, absl::string_view expiry_key) {
  txn.Delete(expiry_key);
  const std::string data_key = keys::Data(ns_id, key);
  std::string raw;
  RecordView old;
  absl::StatusOr<bool> exists = ReadRecord(txn, data_key, &raw, &old);
  // A corrupt record must not stall the sweep for every key behind it: the index entry
  // goes, the record stays for a read to report (DATA_LOSS) and repair to replace.
  if (exists.status().code() == absl::StatusCode::kDataLoss) return absl::OkStatus();
  if (!exists.ok()) return exists.status();
  if (!*exists || old.tombstone || old.expiration == 0 || old.expiration > now_seconds) {
    return absl::OkStatus();  // stale index entry: the key was rewritten since
  }
  if (old.blob) FreeBlob(txn, *old.blob);
  StageHash(txn, ns_id, key, old.hlc, old.origin, old.expiration);
  // Keep the version as a tombstone so an older write delivered late cannot revive it.
  RecordFields tombstone;
  tombstone.hlc = old.hlc;
  tombstone.origin = old.origin;
  tombstone.tombstone = true;
  txn.Put(data_key, EncodeRecord(tombstone));
  txn.Put(keys::Tombstone(old.hlc, ns_id, key), "");
  return absl::OkStatus();
}

absl::Status MutationApplier::CollectTombstone(Txn& txn, absl::string_view ns_id,
                                               absl::string_view key, HlcTimestamp hlc,
                                               absl::string_view index_key) {
  txn.Delete(index_key);
  const std::string data_key = keys::Data(ns_id, key);
  std::string raw;
  RecordView old;
  absl::StatusOr<bool> exists = ReadRecord(txn, data_key, &raw, &old);
  if (!exists.ok() || !*exists) return absl::OkStatus();
  // Only the very tombstone the index names: a newer version replaced it otherwise.
  if (old.tombstone && old.hlc == hlc) txn.Delete(data_key);
  return absl::OkStatus();
}

absl::Status MutationApplier::Purge(Txn& txn, absl::string_view ns_id, absl::string_view key) {
  const std::string data_key = keys::Data(ns_id, key);
  std::string raw;
  RecordView old;
  absl::StatusOr<bool> exists = ReadRecord(txn, data_key, &raw, &old);
  if (exists.ok() && *exists) Retire(txn, old, ns_id, key, std::nullopt);
  txn.Delete(data_key);
  return absl::OkStatus();
}

}  // namespace kv::storage
