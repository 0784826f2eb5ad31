#include "storage/store.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "storage/keys.h"
#include "storage/leveldb_status.h"
#include "storage/preallocating_env.h"

namespace kv::storage {
namespace {

constexpr absl::string_view kFormatVersion = "1";

leveldb::Slice ToSlice(absl::string_view s) { return leveldb::Slice(s.data(), s.size()); }
absl::string_view ToView(const leveldb::Slice& s) { return absl::string_view(s.data(), s.size()); }

// Hard failures abort a commit job; rejections (unknown namespace, taken title) only
// fail their own item.
bool IsRejection(const absl::Status& s) {
  return s.code() == absl::StatusCode::kNotFound ||
         s.code() == absl::StatusCode::kAlreadyExists;
}

size_t ApproximateBytes(const Mutation& m) {
  if (const auto* put = std::get_if<PutValue>(&m.op)) {
    return 64 + put->key.size() + put->inline_value.size() +
           (put->metadata ? put->metadata->size() : 0);
  }
  return 64;
}

}  // namespace

struct Store::Metrics {
  explicit Metrics(prometheus::Registry& r)
      : groups(prometheus::BuildCounter()
                   .Name("kv_storage_commit_groups_total")
                   .Help("Synced LevelDB writes, each committing a group of write jobs")
                   .Register(r)
                   .Add({})),
        errors(prometheus::BuildCounter()
                   .Name("kv_storage_commit_errors_total")
                   .Help("Synced writes that failed")
                   .Register(r)
                   .Add({})),
        bytes(prometheus::BuildCounter()
                  .Name("kv_storage_commit_bytes_total")
                  .Help("Approximate bytes committed")
                  .Register(r)
                  .Add({})),
        group_jobs(prometheus::BuildHistogram()
                       .Name("kv_storage_commit_group_jobs")
                       .Help("Write jobs folded into one synced write (group commit)")
                       .Register(r)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64,
                                                                        128, 256, 1024})),
        write_seconds(prometheus::BuildHistogram()
                          .Name("kv_storage_commit_write_seconds")
                          .Help("Duration of one synced group write, fsync included")
                          .Register(r)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                       0.025, 0.05, 0.1, 0.25, 1})),
        expired(prometheus::BuildCounter()
                    .Name("kv_storage_expired_keys_total")
                    .Help("Keys removed by the expiry sweep")
                    .Register(r)
                    .Add({})),
        purged(prometheus::BuildCounter()
                   .Name("kv_storage_purged_keys_total")
                   .Help("Keys removed from deleted namespaces")
                   .Register(r)
                   .Add({})),
        applied_sequence(prometheus::BuildGauge()
                             .Name("kv_storage_applied_sequence")
                             .Help("Mutations applied by this node (its replication position)")
                             .Register(r)
                             .Add({})) {}

  prometheus::Counter& groups;
  prometheus::Counter& errors;
  prometheus::Counter& bytes;
  prometheus::Histogram& group_jobs;
  prometheus::Histogram& write_seconds;
  prometheus::Counter& expired;
  prometheus::Counter& purged;
  prometheus::Gauge& applied_sequence;
};

absl::Status CommitResult::FirstError() const {
  if (!status.ok()) return status;
  for (const absl::Status& s : items) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

Store::Store(const StoreOptions& options, const Clock* clock)
    : options_(options), clock_(clock) {}

Store::~Store() {
  committer_.reset();  // drain queued writes while the database is open
}

size_t JitteredWriteBuffer(size_t base, double jitter, absl::BitGenRef gen) {
  if (jitter <= 0) return base;
  const double factor = absl::Uniform(absl::IntervalClosed, gen, 1 - jitter, 1 + jitter);
  return static_cast<size_t>(static_cast<double>(base) * factor);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options,
                                                   const Clock* clock,
                                                   prometheus::Registry* registry) {
  if (options.path.empty()) return absl::InvalidArgumentError("storage: path is empty");
  if (options.blob_chunk_bytes <= 0 || options.inline_value_limit < 0) {
    return absl::InvalidArgumentError("storage: invalid chunk or inline size");
  }
  if (!(options.write_buffer_jitter >= 0 && options.write_buffer_jitter <= 0.5)) {
    return absl::InvalidArgumentError("storage: write_buffer_jitter must be between 0 and 0.5");
  }
  std::unique_ptr<Store> store(new Store(options, clock));
  leveldb::Env* env = options.env;
  if (env == nullptr) {
    switch (options.log_writes) {
      case StoreOptions::LogWrites::kPreallocated:
        env = PreallocatingEnv::Default();
        break;
      case StoreOptions::LogWrites::kHeld:
        env = PreallocatingEnv::HoldingUnsynced();
        break;
      case StoreOptions::LogWrites::kPlain:
        env = leveldb::Env::Default();
        break;
    }
  }
  env->CreateDir(options.path);  // ignore "exists"; Open reports real problems

  store->block_cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));
  store->filter_policy_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options db_options;
  db_options.create_if_missing = true;
  db_options.env = env;
  db_options.block_cache = store->block_cache_.get();
  db_options.filter_policy = store->filter_policy_.get();
  absl::BitGen gen;
  db_options.write_buffer_size =
      JitteredWriteBuffer(options.write_buffer_bytes, options.write_buffer_jitter, gen);
  db_options.max_file_size = 8 << 20;
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(db_options, options.path, &db);
  if (!s.ok()) {
    return absl::Status(FromLevelDbStatus(s).code(),
                        absl::StrCat("opening database at ", options.path, ": ", s.ToString()));
  }
  store->db_.reset(db);
  if (registry != nullptr) store->metrics_ = std::make_unique<Metrics>(*registry);
  KV_RETURN_IF_ERROR(store->Recover());
  return store;
}

absl::Status Store::Recover() {
  leveldb::DB* db = db_.get();
  std::string value;
  leveldb::Status s = db->Get(leveldb::ReadOptions(), keys::Meta(keys::kMetaFormat), &value);
  leveldb::WriteBatch fixups;
  if (s.IsNotFound()) {
    fixups.Put(keys::Meta(keys::kMetaFormat), ToSlice(kFormatVersion));
  } else if (!s.ok()) {
    return FromLevelDbStatus(s);
  } else if (value != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "storage: database format ", value, " is not the supported format ", kFormatVersion));
  }

  auto read_u64 = [&](absl::string_view name, uint64_t* out) -> absl::Status {
    std::string raw;
    leveldb::Status st = db->Get(leveldb::ReadOptions(), keys::Meta(name), &raw);
    if (st.IsNotFound()) return absl::OkStatus();
    if (!st.ok()) return FromLevelDbStatus(st);
    absl::string_view in = raw;
    if (!GetFixed64BE(&in, out)) {
      return absl::DataLossError(absl::StrCat("storage: corrupt meta ", name));
    }
    return absl::OkStatus();
  };
  uint64_t sequence = 0, hlc_high_water = 0, epoch = 0, log_start = 1, horizon = 0;
  KV_RETURN_IF_ERROR(read_u64(keys::kMetaSequence, &sequence));
  KV_RETURN_IF_ERROR(read_u64(keys::kMetaHorizon, &horizon));
  KV_RETURN_IF_ERROR(read_u64(keys::kMetaHlc, &hlc_high_water));
  KV_RETURN_IF_ERROR(read_u64(keys::kMetaEpoch, &epoch));
  KV_RETURN_IF_ERROR(read_u64(keys::kMetaLogStart, &log_start));
  if (epoch == 0) {
    // A new log lineage. Replicas following another lineage adopt it with ResetLog.
    absl::BitGen gen;
    epoch = absl::Uniform<uint64_t>(absl::IntervalClosed, gen, 1, UINT64_MAX);
    std::string encoded;
    PutFixed64BE(&encoded, epoch);
    fixups.Put(keys::Meta(keys::kMetaEpoch), encoded);
  }
  applied_sequence_ = sequence;
  written_sequence_ = sequence;
  epoch_ = epoch;
  log_start_ = log_start;

  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  // Namespace catalog.
  const std::string ns_prefix(1, keys::kNamespaceTag);
  for (it->Seek(ns_prefix); it->Valid() && it->key().starts_with(ns_prefix); it->Next()) {
    absl::string_view id;
    NamespaceRecord record;
    if (!keys::DecodeNamespace(ToView(it->key()), &id) ||
        !DecodeNamespaceRecord(ToView(it->value()), &record)) {
      return absl::DataLossError("storage: corrupt namespace record");
    }
    if (record.tombstone) fingerprint_.DropNamespace(id);
    catalog_.Set(id, std::move(record));
  }
  // Bucket hashes and fingerprint of the live versions, for anti-entropy.
  const std::string data_prefix(1, keys::kDataTag);
  for (it->Seek(data_prefix); it->Valid() && it->key().starts_with(data_prefix); it->Next()) {
    absl::string_view ns, key;
    RecordView record;
    if (!keys::DecodeData(ToView(it->key()), &ns, &key) ||
        !DecodeRecord(ToView(it->value()), &record)) {
      continue;  // a corrupt record reads as DATA_LOSS and is left for repair
    }
    if (!record.tombstone) {
      const uint64_t delta = VersionHash(ns, key, record.hlc, record.origin);
      hashes_.Apply(BucketOf(ns, key), delta);
      if (record.expiration == 0) fingerprint_.Apply(ns, delta);
    }
  }
  // Uploads a crash interrupted: free their chunks.
  const std::string upload_prefix(1, keys::kUploadTag);
  std::vector<uint64_t> orphans;
  for (it->Seek(upload_prefix); it->Valid() && it->key().starts_with(upload_prefix);
       it->Next()) {
    uint64_t id;
    if (keys::DecodeUpload(ToView(it->key()), &id)) orphans.push_back(id);
    fixups.Delete(it->key());
  }
  for (uint64_t id : orphans) {
    const std::string prefix = keys::ChunkPrefix(id);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      fixups.Delete(it->key());
    }
  }
  // Blob ids continue above the largest one stored.
  it->Seek(keys::PrefixSuccessor(std::string(1, keys::kChunkTag)));
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  uint64_t blob_id = 0;
  uint32_t index = 0;
  if (it->Valid() && keys::DecodeChunk(ToView(it->key()), &blob_id, &index)) {
    next_blob_id_ = blob_id + 1;
  }
  for (uint64_t id : orphans) {
    if (id >= next_blob_id_) next_blob_id_ = id + 1;
  }
  if (!it->status().ok()) return FromLevelDbStatus(it->status());
  it.reset();

  leveldb::WriteOptions sync;
  sync.sync = true;
  s = db->Write(sync, &fixups);
  if (!s.ok()) return FromLevelDbStatus(s);

  hlc_ = std::make_unique<HybridClock>(clock_, hlc_high_water);
  fingerprint_.RaiseCleanFrom(horizon);
  fingerprint_.Record(sequence);
  applier_ = std::make_unique<MutationApplier>(&catalog_, hlc_.get(), &hashes_, &fingerprint_,
                                               options_.node_id);
  waiters_ = std::make_unique<SequenceWaiters>(sequence);
  if (metrics_) metrics_->applied_sequence.Set(static_cast<double>(sequence));

  GroupCommitter::Hooks hooks;
  hooks.before_write = [this](uint64_t seq, leveldb::WriteBatch& batch) {
    written_sequence_ = seq;
    std::string encoded;
    PutFixed64BE(&encoded, seq);
    batch.Put(keys::Meta(keys::kMetaSequence), encoded);
    encoded.clear();
    PutFixed64BE(&encoded, hlc_->HighWater());
    batch.Put(keys::Meta(keys::kMetaHlc), encoded);
    // Versions shipped ahead of their entries survive a restart with the data.
    if (const uint64_t horizon = fingerprint_.clean_from(); horizon > seq) {
      encoded.clear();
      PutFixed64BE(&encoded, horizon);
      batch.Put(keys::Meta(keys::kMetaHorizon), encoded);
    }
  };
  hooks.after_write = [this](uint64_t seq, bool synced) {
    applied_sequence_ = seq;
    last_group_unsynced_ = !synced;
    if (metrics_) metrics_->applied_sequence.Set(static_cast<double>(seq));
    {
      absl::MutexLock lock(&listeners_mu_);
      for (auto& [id, listener] : listeners_) listener(seq);
    }
    waiters_->Advance(seq);
  };
  if (metrics_) {
    hooks.observe = [m = metrics_.get()](size_t jobs, size_t bytes, double seconds,
                                          const absl::Status& status) {
      m->groups.Increment();
      m->group_jobs.Observe(static_cast<double>(jobs));
      m->write_seconds.Observe(seconds);
      m->bytes.Increment(static_cast<double>(bytes));
      if (!status.ok()) m->errors.Increment();
    };
  }
  committer_ = std::make_unique<GroupCommitter>(db, options_.commit, std::move(hooks), sequence);
  return absl::OkStatus();
}

absl::StatusOr<NamespaceInfo> Store::GetNamespace(absl::string_view ns_id) const {
  std::optional<NamespaceRecord> record = catalog_.Find(ns_id);
  if (!record || record->tombstone) return NamespaceNotFoundError();
  return NamespaceInfo{std::string(ns_id), record->title};
}

absl::Status Store::CheckNamespace(absl::string_view ns_id) const {
  return catalog_.IsLive(ns_id) ? absl::OkStatus() : NamespaceNotFoundError();
}

absl::StatusOr<std::optional<StoredValue>> Store::Get(absl::string_view ns_id,
                                                      absl::string_view key,
                                                      absl::Time now) const {
  KV_RETURN_IF_ERROR(CheckNamespace(ns_id));
  const std::string data_key = keys::Data(ns_id, key);
  const int64_t now_s = absl::ToUnixSeconds(now);
  // Released on every path unless a BlobReader takes it over.
  struct SnapshotGuard {
    leveldb::DB* db;
    const leveldb::Snapshot* snapshot = nullptr;
    ~SnapshotGuard() {
      if (snapshot != nullptr) db->ReleaseSnapshot(snapshot);
    }
  } guard{db_.get()};
  leveldb::ReadOptions options;
  std::string raw;
  RecordView record;
  while (true) {
    options.snapshot = guard.snapshot;
    leveldb::Status s = db_->Get(options, data_key, &raw);
    if (s.IsNotFound()) return std::optional<StoredValue>();
    if (!s.ok()) return FromLevelDbStatus(s);
    if (!DecodeRecord(raw, &record)) return absl::DataLossError("storage: corrupt record");
    if (!record.LiveAt(now_s)) return std::optional<StoredValue>();
    if (!record.blob || guard.snapshot != nullptr) break;
    // Chunks must come from the same point in time as the record: read it again at a
    // snapshot that the BlobReader then keeps.
    guard.snapshot = db_->GetSnapshot();
  }
  StoredValue out;
  out.expiration = record.expiration;
  if (record.metadata) out.metadata = std::string(*record.metadata);
  out.hlc = record.hlc;
  out.origin = std::string(record.origin);
  out.size = record.value_size();
  if (record.blob) {
    out.blob = std::make_unique<BlobReader>(db_.get(), std::exchange(guard.snapshot, nullptr),
                                            *record.blob);
  } else {
    out.inline_value = std::string(record.inline_value);
  }
  return std::optional<StoredValue>(std::move(out));
}

absl::StatusOr<ListPage> Store::List(absl::string_view ns_id, absl::string_view prefix,
                                     std::optional<absl::string_view> start_after, int limit,
                                     absl::Time now, int scan_budget) const {
  if (!catalog_.IsLive(ns_id)) return NamespaceNotFoundError();
  if (scan_budget <= 0) scan_budget = limit + 10000;
  const int64_t now_s = absl::ToUnixSeconds(now);
  const std::string prefix_key = keys::DataPrefix(ns_id, prefix);
  std::string seek_key = prefix_key;
  if (start_after && *start_after >= prefix) {
    seek_key = keys::Data(ns_id, *start_after);
    seek_key.push_back('\0');  // the smallest key strictly after start_after
  }
  ListPage page;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  int examined = 0;
  for (it->Seek(seek_key); it->Valid(); it->Next()) {
    const absl::string_view encoded = ToView(it->key());
    if (!absl::StartsWith(encoded, prefix_key)) break;
    absl::string_view ns, name;
    keys::DecodeData(encoded, &ns, &name);
    RecordView record;
    if (!DecodeRecord(ToView(it->value()), &record)) {
      return absl::DataLossError("storage: corrupt record");
    }
    if (record.LiveAt(now_s)) {
      if (static_cast<int>(page.keys.size()) == limit) {
        page.complete = false;
        page.resume_after = page.keys.back().name;
        return page;
      }
      ListedKey& k = page.keys.emplace_back();
      k.name = std::string(name);
      k.expiration = record.expiration;
      if (record.metadata) k.metadata = std::string(*record.metadata);
    }
    if (++examined >= scan_budget) {
      page.complete = false;
      page.resume_after = std::string(name);
      return page;
    }
  }
  if (!it->status().ok()) return FromLevelDbStatus(it->status());
  return page;
}

void Store::Commit(std::vector<Mutation> mutations, CommitDone done) {
  CommitImpl(std::move(mutations), std::move(done), /*wait=*/false);
}

CommitResult Store::CommitAndWait(std::vector<Mutation> mutations) {
  CommitResult out;
  CommitImpl(std::move(mutations), [&out](CommitResult r) { out = std::move(r); },
             /*wait=*/true);
  return out;
}

void Store::CommitImpl(std::vector<Mutation> mutations, CommitDone done, bool wait) {
  bool exclusive = false;
  bool sync = false;
  size_t bytes = 0;
  // Blobs a failed job leaves behind are freed here; an applied job owns them.
  std::vector<BlobRef> blobs;
  for (const Mutation& m : mutations) {
    exclusive = exclusive || m.IsNamespaceOp();
    sync = sync || m.sequencing == Sequencing::kAssign;
    bytes += ApproximateBytes(m);
    if (const auto* put = std::get_if<PutValue>(&m.op); put && put->blob) blobs.push_back(*put->blob);
  }
  auto result = std::make_shared<CommitResult>();
  result->items.resize(mutations.size());
  GroupCommitter::ApplyFn apply =
      [this, result, mutations = std::move(mutations)](Txn& txn) mutable -> absl::Status {
    for (size_t i = 0; i < mutations.size(); ++i) {
      absl::Status s = applier_->Apply(txn, mutations[i]);
      if (!s.ok() && !IsRejection(s)) return s;
      result->items[i] = std::move(s);
    }
    // This job's own position: later jobs of the group may move the store further.
    result->sequence = txn.sequence();
    return absl::OkStatus();
  };
  auto finish = [this, result, blobs = std::move(blobs),
                 done = std::move(done)](absl::Status status) mutable {
    if (!status.ok()) {
      for (const BlobRef& blob : blobs) DiscardBlob(blob);
      result->sequence = applied_sequence_.load();
    }
    result->status = std::move(status);
    done(std::move(*result));
  };
  if (wait) {
    // On an idle committer this commits on the calling thread (no thread switches).
    finish(committer_->SubmitAndWait(std::move(apply), bytes, exclusive, sync));
  } else {
    committer_->Submit(std::move(apply), std::move(finish), bytes, exclusive, sync);
  }
}

std::unique_ptr<ValueBuilder> Store::NewValueBuilder(bool durable) {
  return std::make_unique<ValueBuilder>(committer_.get(), &next_blob_id_,
                                        options_.blob_chunk_bytes, options_.inline_value_limit,
                                        durable);
}

void Store::DiscardBlob(const BlobRef& blob) {
  committer_->Submit(
      [blob](Txn& txn) {
        MutationApplier::FreeBlob(txn, blob);
        return absl::OkStatus();
      },
      [](absl::Status) {}, 64);
}

absl::StatusOr<int> Store::SweepExpired(absl::Time now, int max_keys) {
  const int64_t now_s = absl::ToUnixSeconds(now);
  struct Entry {
    std::string index_key;
    std::string ns_id;
    std::string key;
  };
  std::vector<Entry> entries;
  {
    const std::string start(1, keys::kExpiryTag);
    const std::string end = keys::Expiry(now_s + 1, "", "");  // first entry not yet due
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(start); it->Valid() && static_cast<int>(entries.size()) < max_keys;
         it->Next()) {
      const absl::string_view encoded = ToView(it->key());
      if (encoded >= end || encoded[0] != keys::kExpiryTag) break;
      int64_t expiration;
      absl::string_view ns, key;
      if (!keys::DecodeExpiry(encoded, &expiration, &ns, &key)) continue;
      entries.push_back({std::string(encoded), std::string(ns), std::string(key)});
    }
    if (!it->status().ok()) return FromLevelDbStatus(it->status());
  }
  if (entries.empty()) return 0;
  const int count = static_cast<int>(entries.size());
  absl::Status s = committer_->SubmitAndWait(
      [this, now_s, entries = std::move(entries)](Txn& txn) -> absl::Status {
        for (const Entry& e : entries) {
          KV_RETURN_IF_ERROR(applier_->Expire(txn, e.ns_id, e.key, now_s, e.index_key));
        }
        return absl::OkStatus();
      },
      static_cast<size_t>(count) * 64);
  if (!s.ok()) return s;
  if (metrics_) metrics_->expired.Increment(count);
  return count;
}

absl::StatusOr<bool> Store::SyncHeldLogIfQuiet() {
  const uint64_t applied = applied_sequence_.load();
  const bool quiet = applied == std::exchange(applied_at_last_check_, applied);
  if (options_.env != nullptr || options_.log_writes != StoreOptions::LogWrites::kHeld ||
      !quiet || !last_group_unsynced_.load()) {
    return false;
  }
  // The job writes the clock's high-water mark, which the group's bookkeeping writes too:
  // a group with nothing in it would not be written. Synced, the log first writes every
  // record it holds.
  KV_RETURN_IF_ERROR(committer_->SubmitAndWait(
      [this](Txn& txn) {
        std::string encoded;
        PutFixed64BE(&encoded, hlc_->HighWater());
        txn.Put(keys::Meta(keys::kMetaHlc), encoded);
        return absl::OkStatus();
      },
      64, /*exclusive=*/false, /*sync=*/true));
  return true;
}

absl::StatusOr<int> Store::PurgeDeletedNamespaces(int max_keys) {
  int purged = 0;
  for (const std::string& ns_id : catalog_.PendingPurge()) {
    if (purged >= max_keys) break;
    std::vector<std::string> names;
    {
      const std::string prefix = keys::Data(ns_id, "");
      std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) &&
                             purged + static_cast<int>(names.size()) < max_keys;
           it->Next()) {
        absl::string_view ns, key;
        keys::DecodeData(ToView(it->key()), &ns, &key);
        names.emplace_back(key);
      }
      if (!it->status().ok()) return FromLevelDbStatus(it->status());
    }
    if (names.empty()) {
      catalog_.MarkPurged(ns_id);
      continue;
    }
    const int count = static_cast<int>(names.size());
    absl::Status s = committer_->SubmitAndWait(
        [this, ns_id, names = std::move(names)](Txn& txn) -> absl::Status {
          for (const std::string& key : names) {
            KV_RETURN_IF_ERROR(applier_->Purge(txn, ns_id, key));
          }
          return absl::OkStatus();
        },
        static_cast<size_t>(count) * 64);
    if (!s.ok()) return s;
    purged += count;
  }
  if (metrics_ && purged > 0) metrics_->purged.Increment(purged);
  return purged;
}

}  // namespace kv::storage
