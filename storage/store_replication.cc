// The replication-facing half of Store: reading the log and records for shipping, listing
// versions for anti-entropy, and adopting or trimming the log.

#include <algorithm>
#include <bitset>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "storage/keys.h"
#include "storage/leveldb_status.h"
#include "storage/store.h"

namespace kv::storage {
namespace {

absl::string_view ToView(const leveldb::Slice& s) { return absl::string_view(s.data(), s.size()); }

// Releases a snapshot unless handed on.
struct SnapshotGuard {
  leveldb::DB* db;
  const leveldb::Snapshot* snapshot;
  ~SnapshotGuard() {
    if (snapshot != nullptr) db->ReleaseSnapshot(snapshot);
  }
};

}  // namespace

absl::StatusOr<bool> Store::ReadShippedRecord(absl::string_view ns_id, absl::string_view key,
                                              const leveldb::Snapshot* snapshot,
                                              ShippedRecord* out) const {
  const std::string data_key = keys::Data(ns_id, key);
  SnapshotGuard own{db_.get(), nullptr};
  leveldb::ReadOptions options;
  options.snapshot = snapshot;
  std::string raw;
  RecordView record;
  while (true) {
    leveldb::Status s = db_->Get(options, data_key, &raw);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return FromLevelDbStatus(s);
    if (!DecodeRecord(raw, &record)) return absl::DataLossError("storage: corrupt record");
    if (!record.blob || own.snapshot != nullptr) break;
    // A chunked value is read from a snapshot of its own, which its BlobReader keeps.
    own.snapshot = db_->GetSnapshot();
    options.snapshot = own.snapshot;
  }
  out->ns_id = std::string(ns_id);
  out->key = std::string(key);
  out->hlc = record.hlc;
  out->origin = std::string(record.origin);
  out->tombstone = record.tombstone;
  out->expiration = record.expiration;
  out->metadata.reset();
  if (record.metadata) out->metadata = std::string(*record.metadata);
  out->size = record.value_size();
  out->inline_value.clear();
  out->blob.reset();
  if (record.blob) {
    out->blob = std::make_unique<BlobReader>(db_.get(), std::exchange(own.snapshot, nullptr),
                                             *record.blob);
  } else {
    out->inline_value = std::string(record.inline_value);
  }
  return true;
}

absl::StatusOr<std::vector<ShippedEntry>> Store::ReadLog(uint64_t from, int max_entries,
                                                         int64_t max_bytes) const {
  SnapshotGuard guard{db_.get(), db_->GetSnapshot()};
  leveldb::ReadOptions options;
  options.snapshot = guard.snapshot;
  // log_start is read at the snapshot too, so a concurrent trim cannot open a gap.
  std::string raw;
  uint64_t log_start = 1;
  if (db_->Get(options, keys::Meta(keys::kMetaLogStart), &raw).ok()) {
    absl::string_view in = raw;
    GetFixed64BE(&in, &log_start);
  }
  if (from < log_start) {
    return absl::OutOfRangeError(absl::StrCat("log entry ", from,
                                              " is no longer retained (the log starts at ",
                                              log_start, ")"));
  }
  std::vector<ShippedEntry> out;
  int64_t bytes = 0;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  uint64_t expected = from;
  for (it->Seek(keys::Log(from)); it->Valid() && static_cast<int>(out.size()) < max_entries;
       it->Next()) {
    uint64_t seq;
    if (!keys::DecodeLog(ToView(it->key()), &seq)) break;  // past the log
    if (seq != expected) {
      return absl::DataLossError(absl::StrCat("storage: log entry ", expected, " is missing"));
    }
    ShippedEntry shipped;
    shipped.seq = seq;
    if (!DecodeLogEntry(ToView(it->value()), &shipped.entry)) {
      return absl::DataLossError(absl::StrCat("storage: corrupt log entry ", seq));
    }
    if (shipped.entry.kind == LogKind::kPut || shipped.entry.kind == LogKind::kDelete) {
      ShippedRecord record;
      KV_ASSIGN_OR_RETURN(const bool found, ReadShippedRecord(shipped.entry.ns_id,
                                                              shipped.entry.key,
                                                              guard.snapshot, &record));
      if (found) {
        // A chunked value travels alone, first in its batch.
        if (record.blob && !out.empty()) break;
        if (!record.blob) {
          bytes += static_cast<int64_t>(record.inline_value.size());
          if (bytes > max_bytes && !out.empty()) break;
        }
        shipped.record = std::move(record);
      }
    }
    const bool alone = shipped.record && shipped.record->blob;
    out.push_back(std::move(shipped));
    ++expected;
    if (alone) break;
  }
  if (!it->status().ok()) return FromLevelDbStatus(it->status());
  return out;
}

absl::Status Store::ScanVersions(
    const std::vector<uint32_t>& buckets, std::vector<VersionInfo>* versions,
    std::vector<std::pair<std::string, NamespaceRecord>>* namespaces,
    uint64_t* applied_sequence) const {
  std::bitset<kBucketCount> wanted;
  if (buckets.empty()) wanted.set();
  for (uint32_t b : buckets) wanted.set(b % kBucketCount);
  SnapshotGuard guard{db_.get(), db_->GetSnapshot()};
  leveldb::ReadOptions options;
  options.snapshot = guard.snapshot;
  options.fill_cache = false;
  std::string raw;
  *applied_sequence = 0;
  if (db_->Get(options, keys::Meta(keys::kMetaSequence), &raw).ok()) {
    absl::string_view in = raw;
    GetFixed64BE(&in, applied_sequence);
  }
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  const std::string ns_prefix(1, keys::kNamespaceTag);
  for (it->Seek(ns_prefix); it->Valid() && it->key().starts_with(ns_prefix); it->Next()) {
    absl::string_view id;
    NamespaceRecord record;
    if (keys::DecodeNamespace(ToView(it->key()), &id) &&
        DecodeNamespaceRecord(ToView(it->value()), &record)) {
      namespaces->emplace_back(std::string(id), std::move(record));
    }
  }
  const std::string data_prefix(1, keys::kDataTag);
  for (it->Seek(data_prefix); it->Valid() && it->key().starts_with(data_prefix); it->Next()) {
    absl::string_view ns, key;
    if (!keys::DecodeData(ToView(it->key()), &ns, &key) || !wanted.test(BucketOf(ns, key))) {
      continue;
    }
    RecordView record;
    if (!DecodeRecord(ToView(it->value()), &record)) continue;  // repair will replace it
    versions->push_back(VersionInfo{std::string(ns), std::string(key), record.hlc,
                                    std::string(record.origin), record.tombstone});
  }
  return FromLevelDbStatus(it->status());
}

absl::StatusOr<std::vector<ShippedRecord>> Store::ReadRecords(
    const std::vector<std::pair<std::string, std::string>>& keys) const {
  std::vector<ShippedRecord> out;
  for (const auto& [ns, key] : keys) {
    ShippedRecord record;
    KV_ASSIGN_OR_RETURN(const bool found, ReadShippedRecord(ns, key, nullptr, &record));
    if (found) out.push_back(std::move(record));
  }
  return out;
}

absl::Status Store::ResetLog(uint64_t epoch, uint64_t applied_sequence) {
  return committer_->SubmitAndWait(
      [this, epoch, applied_sequence](Txn& txn) -> absl::Status {
        const std::string prefix(1, keys::kLogTag);
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
        for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
          txn.Delete(ToView(it->key()));
        }
        KV_RETURN_IF_ERROR(FromLevelDbStatus(it->status()));
        std::string encoded;
        PutFixed64BE(&encoded, epoch);
        txn.Put(keys::Meta(keys::kMetaEpoch), encoded);
        encoded.clear();
        PutFixed64BE(&encoded, applied_sequence + 1);
        txn.Put(keys::Meta(keys::kMetaLogStart), encoded);
        // The old lineage's points and horizon (reset here, not once durable, so that this
        // group's bookkeeping does not write the horizon back).
        fingerprint_.Reset();
        txn.Delete(keys::Meta(keys::kMetaHorizon));
        txn.SetSequence(applied_sequence);
        txn.OnDurable([this, epoch, applied_sequence] {
          epoch_ = epoch;
          log_start_ = applied_sequence + 1;
        });
        return absl::OkStatus();
      },
      1024, /*exclusive=*/true);
}

absl::StatusOr<int> Store::TrimLog(uint64_t keep_from, int max_entries) {
  const uint64_t start = log_start_.load();
  if (keep_from <= start) return 0;
  const uint64_t end = std::min<uint64_t>(keep_from, start + static_cast<uint64_t>(max_entries));
  absl::Status s = committer_->SubmitAndWait(
      [this, start, end](Txn& txn) -> absl::Status {
        for (uint64_t seq = start; seq < end; ++seq) txn.Delete(keys::Log(seq));
        std::string encoded;
        PutFixed64BE(&encoded, end);
        txn.Put(keys::Meta(keys::kMetaLogStart), encoded);
        txn.OnDurable([this, end] { log_start_ = end; });
        return absl::OkStatus();
      },
      static_cast<size_t>(end - start) * 16);
  if (!s.ok()) return s;
  return static_cast<int>(end - start);
}

absl::StatusOr<int> Store::CollectTombstones(HlcTimestamp watermark, int max_keys) {
  struct Candidate {
    std::string index_key, ns_id, key;
    uint64_t hlc;
  };
  std::vector<Candidate> candidates;
  {
    const std::string prefix(1, keys::kTombstoneTag);
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && static_cast<int>(candidates.size()) < max_keys;
         it->Next()) {
      uint64_t hlc;
      absl::string_view ns, key;
      if (!keys::DecodeTombstone(ToView(it->key()), &hlc, &ns, &key)) break;
      if (hlc > watermark) break;  // the index is in timestamp order
      candidates.push_back({std::string(ToView(it->key())), std::string(ns), std::string(key), hlc});
    }
    KV_RETURN_IF_ERROR(FromLevelDbStatus(it->status()));
  }
  if (candidates.empty()) return 0;
  const int count = static_cast<int>(candidates.size());
  KV_RETURN_IF_ERROR(committer_->SubmitAndWait(
      [this, candidates = std::move(candidates)](Txn& txn) -> absl::Status {
        for (const Candidate& c : candidates) {
          KV_RETURN_IF_ERROR(applier_->CollectTombstone(txn, c.ns_id, c.key, c.hlc, c.index_key));
        }
        return absl::OkStatus();
      },
      static_cast<size_t>(count) * 64));
  return count;
}

absl::StatusOr<HlcTimestamp> Store::LogEntryTimestamp(uint64_t seq) const {
  std::string raw;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), keys::Log(seq), &raw);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("log entry ", seq, " is not retained"));
  if (!s.ok()) return FromLevelDbStatus(s);
  LogEntry entry;
  if (!DecodeLogEntry(raw, &entry)) return absl::DataLossError("storage: corrupt log entry");
  return entry.hlc;
}

int Store::AddCommitListener(std::function<void(uint64_t applied)> fn) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.emplace_back(++next_listener_id_, std::move(fn));
  return next_listener_id_;
}

void Store::RemoveCommitListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  std::erase_if(listeners_, [id](const auto& listener) { return listener.first == id; });
}

ReplicaSummary Store::Summary() const {
  ReplicaSummary s;
  s.epoch = epoch_.load();
  s.applied_sequence = applied_sequence_.load();
  s.log_start = log_start_.load();
  s.hash = hashes_.Total();
  return s;
}

}  // namespace kv::storage
