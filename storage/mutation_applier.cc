#include "storage/mutation_applier.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "storage/keys.h"

namespace kv::storage {
namespace {

absl::Status Corrupt(absl::string_view key) {
  return absl::DataLossError(absl::StrCat("storage: corrupt record under key of ", key.size(),
                                          " bytes"));
}

}  // namespace

absl::Status MutationApplier::Apply(Txn& txn, Mutation& m) {
  if (m.hlc == 0) {
    m.hlc = clock_->Now();
    m.origin = node_id_;
  } else {
    clock_->Observe(m.hlc);
  }
  if (auto* put = std::get_if<PutValue>(&m.op)) return ApplyPut(txn, m, *put);
  if (auto* del = std::get_if<DeleteValue>(&m.op)) return ApplyDelete(txn, m, *del);
  return ApplyNamespace(txn, m);
}

void MutationApplier::FreeBlob(Txn& txn, const BlobRef& blob) {
  for (uint32_t i = 0; i < blob.chunk_count(); ++i) txn.Delete(keys::Chunk(blob.id, i));
  txn.Delete(keys::Upload(blob.id));
}

void MutationApplier::FreeReferences(Txn& txn, const RecordView& old, absl::string_view ns_id,
                                     absl::string_view key,
                                     const std::optional<BlobRef>& keep_blob) {
  if (old.blob && !(keep_blob && keep_blob->id == old.blob->id)) FreeBlob(txn, *old.blob);
  if (old.expiration != 0) txn.Delete(keys::Expiry(old.expiration, ns_id, key));
}

absl::Status MutationApplier::ApplyPut(Txn& txn, const Mutation& m, PutValue& put) {
  if (!catalog_->IsLive(put.ns_id)) {
    if (put.blob) FreeBlob(txn, *put.blob);
    return NamespaceNotFoundError();
  }
  const std::string data_key = keys::Data(put.ns_id, put.key);
  KV_ASSIGN_OR_RETURN(std::optional<std::string> current, txn.Get(data_key));
  RecordView old;
  if (current) {
    if (!DecodeRecord(*current, &old)) return Corrupt(data_key);
    if (old.hlc == m.hlc && old.origin == m.origin) return absl::OkStatus();  // replayed
    if (Supersedes(old.hlc, old.origin, m.hlc, m.origin)) {
      if (put.blob) FreeBlob(txn, *put.blob);
      return absl::OkStatus();  // a newer write already won
    }
    FreeReferences(txn, old, put.ns_id, put.key, put.blob);
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
  txn.NextSequence();
  return absl::OkStatus();
}

absl::Status MutationApplier::ApplyDelete(Txn& txn, const Mutation& m, const DeleteValue& del) {
  if (!catalog_->IsLive(del.ns_id)) return NamespaceNotFoundError();
  const std::string data_key = keys::Data(del.ns_id, del.key);
  KV_ASSIGN_OR_RETURN(std::optional<std::string> current, txn.Get(data_key));
  if (current) {
    RecordView old;
    if (!DecodeRecord(*current, &old)) return Corrupt(data_key);
    if (old.hlc == m.hlc && old.origin == m.origin) return absl::OkStatus();
    if (Supersedes(old.hlc, old.origin, m.hlc, m.origin)) return absl::OkStatus();
    FreeReferences(txn, old, del.ns_id, del.key, std::nullopt);
  }
  RecordFields tombstone;
  tombstone.hlc = m.hlc;
  tombstone.origin = m.origin;
  tombstone.tombstone = true;
  txn.Put(data_key, EncodeRecord(tombstone));
  txn.NextSequence();
  return absl::OkStatus();
}

absl::Status MutationApplier::ApplyNamespace(Txn& txn, const Mutation& m) {
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
  txn.Put(keys::Namespace(id), EncodeNamespaceRecord(next));
  txn.NextSequence();
  txn.OnDurable([catalog = catalog_, id, next]() mutable { catalog->Set(id, std::move(next)); });
  return absl::OkStatus();
}

absl::Status MutationApplier::Expire(Txn& txn, absl::string_view ns_id, absl::string_view key,
                                     int64_t now_seconds, absl::string_view expiry_key) {
  txn.Delete(expiry_key);
  const std::string data_key = keys::Data(ns_id, key);
  KV_ASSIGN_OR_RETURN(std::optional<std::string> current, txn.Get(data_key));
  if (!current) return absl::OkStatus();
  RecordView old;
  // A corrupt record must not stall the sweep for every key behind it: the index entry
  // goes, the record stays for a read to report (DATA_LOSS) and repair to replace.
  if (!DecodeRecord(*current, &old)) return absl::OkStatus();
  if (old.tombstone || old.expiration == 0 || old.expiration > now_seconds) {
    return absl::OkStatus();  // stale index entry: the key was rewritten since
  }
  if (old.blob) FreeBlob(txn, *old.blob);
  // Keep the version as a tombstone so an older write delivered late cannot revive it.
  RecordFields tombstone;
  tombstone.hlc = old.hlc;
  tombstone.origin = old.origin;
  tombstone.tombstone = true;
  txn.Put(data_key, EncodeRecord(tombstone));
  return absl::OkStatus();
}

absl::Status MutationApplier::Purge(Txn& txn, absl::string_view ns_id, absl::string_view key) {
  const std::string data_key = keys::Data(ns_id, key);
  KV_ASSIGN_OR_RETURN(std::optional<std::string> current, txn.Get(data_key));
  if (!current) return absl::OkStatus();
  RecordView old;
  if (DecodeRecord(*current, &old)) FreeReferences(txn, old, ns_id, key, std::nullopt);
  txn.Delete(data_key);
  return absl::OkStatus();
}

}  // namespace kv::storage
