#include "gossip/repairer.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "kv/gossip/v1/gossip.grpc.pb.h"
#include "kv/replication/v1/replication.grpc.pb.h"
#include "replication/log_applier.h"
#include "replication/shipping.h"
#include "storage/record.h"

namespace kv::gossip {
namespace {

namespace rv1 = kv::replication::v1;

absl::Status Busy() {
  return absl::UnavailableError("a catch-up or repair is already running; retry later");
}

absl::Status Shutdown() { return absl::CancelledError("gossip is shutting down"); }

// A local version, as compared with the peer's.
struct LocalVersion {
  HlcTimestamp hlc = 0;
  std::string origin;
};

// Namespace ids are fixed-length, so ns_id + key identifies a key unambiguously.
std::string KeyOf(absl::string_view ns_id, absl::string_view key) {
  return absl::StrCat(ns_id, key);
}

}  // namespace

Repairer::Repairer(storage::Store* store, ChannelFactory* channels, const Clock* clock,
                   CallTracker* calls, GossipMetrics* metrics,
                   replication::ReplicationMetrics* replication_metrics, std::string node_id,
                   RepairOptions options)
    : store_(store),
      channels_(channels),
      clock_(clock),
      calls_(calls),
      metrics_(metrics),
      replication_metrics_(replication_metrics),
      node_id_(std::move(node_id)),
      options_(options) {}

bool Repairer::Acquire() {
  absl::MutexLock lock(&mu_);
  if (busy_) return false;
  busy_ = true;
  return true;
}

void Repairer::Release() {
  absl::MutexLock lock(&mu_);
  busy_ = false;
}

absl::StatusOr<int64_t> Repairer::CatchUpFrom(const PeerAddress& peer) {
  if (!Acquire()) return Busy();
  absl::Cleanup release = [this] { Release(); };
  auto stub = rv1::Replication::NewStub(channels_->Dial(peer));
  CallTracker::Call call(calls_, options_.stream_timeout);
  if (!call.ok()) return Shutdown();
  const uint64_t epoch = store_->Epoch();
  rv1::SubscribeRequest request;
  request.set_node_id(node_id_);
  request.set_from_sequence(store_->AppliedSequence() + 1);
  request.set_epoch(epoch);
  request.set_follow(false);
  auto reader = stub->Subscribe(call.context(), request);
  replication::LogApplier applier(store_, storage::Sequencing::kReplicated, clock_,
                                  replication_metrics_, /*from_origin=*/false);
  rv1::LogBatch batch;
  int64_t received = 0;
  absl::Status status;
  while (reader->Read(&batch)) {
    if (batch.epoch() != epoch) {
      status = absl::FailedPreconditionError(
          absl::StrCat("peer ", peer.id, " changed log lineage during catch-up"));
      break;
    }
    received += batch.entries_size();
    status = applier.Apply(batch);
    if (!status.ok()) break;
  }
  if (!status.ok()) call.context()->TryCancel();
  absl::Status finished = FromGrpcStatus(reader->Finish());
  metrics_->AddCatchUpEntries(received);
  if (!status.ok()) return status;
  if (!finished.ok()) {
    metrics_->AddRpcFailure(PeerCall::kSubscribe);
    // A long catch-up cut short by its deadline resumes from where it got next round.
    if (finished.code() != absl::StatusCode::kDeadlineExceeded || received == 0) return finished;
  }
  return received;
}

absl::StatusOr<Repairer::PeerHashes> Repairer::GetBucketHashes(const PeerAddress& peer) {
  auto stub = v1::Gossip::NewStub(channels_->Dial(peer));
  CallTracker::Call call(calls_, options_.rpc_timeout);
  if (!call.ok()) return Shutdown();
  v1::BucketHashesRequest request;
  request.set_node_id(node_id_);
  v1::BucketHashesResponse response;
  absl::Status s = FromGrpcStatus(stub->BucketHashes(call.context(), request, &response));
  if (!s.ok()) {
    metrics_->AddRpcFailure(PeerCall::kBucketHashes);
    return s;
  }
  if (response.hashes_size() != storage::kBucketCount) {
    return absl::InternalError(absl::StrCat("peer ", peer.id, " sent ", response.hashes_size(),
                                            " bucket hashes, not ", storage::kBucketCount));
  }
  PeerHashes out;
  out.epoch = response.epoch();
  out.applied_sequence = response.applied_sequence();
  out.hashes.assign(response.hashes().begin(), response.hashes().end());
  return out;
}

absl::StatusOr<RepairResult> Repairer::RepairFrom(const PeerAddress& peer, bool adopt_lineage) {
  if (!Acquire()) return Busy();
  absl::Cleanup release = [this] { Release(); };
  KV_ASSIGN_OR_RETURN(PeerHashes theirs, GetBucketHashes(peer));
  RepairResult result;
  peer_high_ = theirs.applied_sequence;
  // Whatever the repair applied (all of it or, on failure, part) may belong to sequence
  // numbers up to the peer's position: this replica's fingerprint is comparable again
  // only from there on.
  absl::Cleanup forget = [this, &result] {
    if (result.keys_repaired > 0 || result.adopted) store_->ForgetFingerprints(peer_high_);
  };
  result.epoch = theirs.epoch;
  result.sequence = theirs.applied_sequence;
  result.kind = !adopt_lineage                    ? RepairKind::kDamage
                : theirs.epoch != store_->Epoch() ? RepairKind::kLineage
                                                  : RepairKind::kBehindLog;
  metrics_->AddRepair(result.kind);

  const std::vector<uint64_t> mine = store_->BucketHashSnapshot();
  const bool empty = store_->AppliedSequence() == 0 &&
                     std::all_of(mine.begin(), mine.end(), [](uint64_t h) { return h == 0; });
  const bool full = empty || (adopt_lineage && options_.full_scan_on_adopt);
  std::vector<uint32_t> buckets;
  for (uint32_t b = 0; b < storage::kBucketCount; ++b) {
    if (full || mine[b] != theirs.hashes[b]) buckets.push_back(b);
  }
  absl::Status status;
  if (buckets.empty()) {
    status = RepairGroup(peer, theirs.epoch, {}, &result.keys_repaired);  // namespaces only
  }
  const size_t group = static_cast<size_t>(std::max(1, options_.buckets_per_group));
  for (size_t i = 0; i < buckets.size() && status.ok(); i += group) {
    const std::vector<uint32_t> part(
        buckets.begin() + static_cast<ptrdiff_t>(i),
        buckets.begin() + static_cast<ptrdiff_t>(std::min(buckets.size(), i + group)));
    status = RepairGroup(peer, theirs.epoch, part, &result.keys_repaired);
  }
  metrics_->AddKeysRepaired(result.keys_repaired);
  KV_RETURN_IF_ERROR(status);

  if (adopt_lineage &&
      !(theirs.epoch == store_->Epoch() && theirs.applied_sequence <= store_->AppliedSequence())) {
    KV_RETURN_IF_ERROR(store_->ResetLog(theirs.epoch, theirs.applied_sequence));
    result.adopted = true;
  }
  return result;
}

absl::Status Repairer::RepairGroup(const PeerAddress& peer, uint64_t peer_epoch,
                                   const std::vector<uint32_t>& buckets, int64_t* repaired) {
  // This replica's versions in the group (one bucket's when only namespaces are wanted:
  // the scan returns every namespace record either way).
  std::vector<storage::VersionInfo> versions;
  std::vector<std::pair<std::string, storage::NamespaceRecord>> namespaces;
  uint64_t applied = 0;
  KV_RETURN_IF_ERROR(store_->ScanVersions(buckets.empty() ? std::vector<uint32_t>{0} : buckets,
                                          &versions, &namespaces, &applied));
  absl::flat_hash_map<std::string, LocalVersion> local;
  if (!buckets.empty()) {
    local.reserve(versions.size());
    for (storage::VersionInfo& v : versions) {
      local[KeyOf(v.ns_id, v.key)] = LocalVersion{v.hlc, std::move(v.origin)};
    }
  }
  versions = {};
  absl::flat_hash_map<std::string, storage::NamespaceRecord> local_namespaces(
      std::make_move_iterator(namespaces.begin()), std::make_move_iterator(namespaces.end()));

  auto stub = v1::Gossip::NewStub(channels_->Dial(peer));
  CallTracker::Call call(calls_, options_.stream_timeout);
  if (!call.ok()) return Shutdown();
  v1::ListVersionsRequest request;
  request.set_node_id(node_id_);
  request.set_namespaces_only(buckets.empty());
  for (uint32_t b : buckets) request.add_buckets(b);
  auto reader = stub->ListVersions(call.context(), request);

  KeyList wanted;
  v1::ListVersionsResponse message;
  absl::Status status;
  while (status.ok() && reader->Read(&message)) {
    if (message.epoch() != peer_epoch) {
      status = absl::UnavailableError(
          absl::StrCat("peer ", peer.id, " changed log lineage during the repair"));
      break;
    }
    // Namespace records first: a key is repaired only into a live namespace.
    std::vector<storage::Mutation> ns_updates;
    for (const rv1::NamespaceRecord& ns : message.namespaces()) {
      auto it = local_namespaces.find(ns.namespace_id());
      if (it != local_namespaces.end() &&
          !storage::Supersedes(ns.hlc(), ns.origin(), it->second.hlc, it->second.origin)) {
        continue;
      }
      storage::Mutation m;
      m.op = replication::NamespaceFromProto(ns);
      m.hlc = ns.hlc();
      m.origin = ns.origin();
      m.sequencing = storage::Sequencing::kRepair;
      ns_updates.push_back(std::move(m));
    }
    if (!ns_updates.empty()) {
      // A namespace's deletion changes the fingerprint too: bound it like fetched records.
      peer_high_ = std::max(peer_high_, message.applied_sequence());
      store_->NoteVersionsUpTo(message.applied_sequence());
      const int64_t n = static_cast<int64_t>(ns_updates.size());
      status = store_->CommitAndWait(std::move(ns_updates)).FirstError();
      if (!status.ok()) break;
      *repaired += n;
    }
    for (const v1::Version& v : message.versions()) {
      // Keys of a namespace deleted (or unknown) here have nothing to be repaired into.
      if (!store_->CheckNamespace(v.namespace_id()).ok()) continue;
      auto it = local.find(KeyOf(v.namespace_id(), v.key()));
      if (it != local.end() &&
          !storage::Supersedes(v.hlc(), v.origin(), it->second.hlc, it->second.origin)) {
        continue;  // mine is as new or newer: the peer gets it when it repairs from me
      }
      wanted.emplace_back(v.namespace_id(), v.key());
      if (static_cast<int>(wanted.size()) >= options_.fetch_batch_keys) {
        status = Fetch(peer, &wanted, repaired);
        if (!status.ok()) break;
      }
    }
  }
  if (!status.ok()) call.context()->TryCancel();
  absl::Status finished = FromGrpcStatus(reader->Finish());
  if (!status.ok()) return status;
  if (!finished.ok()) {
    metrics_->AddRpcFailure(PeerCall::kListVersions);
    return finished;
  }
  return Fetch(peer, &wanted, repaired);
}

absl::Status Repairer::Fetch(const PeerAddress& peer, KeyList* keys, int64_t* repaired) {
  if (keys->empty()) return absl::OkStatus();
  auto stub = v1::Gossip::NewStub(channels_->Dial(peer));
  CallTracker::Call call(calls_, options_.stream_timeout);
  if (!call.ok()) return Shutdown();
  v1::FetchRecordsRequest request;
  request.set_node_id(node_id_);
  for (auto& [ns, key] : *keys) {
    v1::RecordKey* k = request.add_keys();
    k->set_namespace_id(std::move(ns));
    k->set_key(std::move(key));
  }
  keys->clear();
  auto reader = stub->FetchRecords(call.context(), request);
  // No replication metrics: repaired records are not log entries, and their age would
  // read as replication lag.
  replication::LogApplier applier(store_, storage::Sequencing::kRepair, clock_, nullptr,
                                  /*from_origin=*/false);
  rv1::LogBatch batch;
  absl::Status status;
  while (reader->Read(&batch)) {
    peer_high_ = std::max(peer_high_, batch.horizon());
    status = applier.Apply(batch);
    if (!status.ok()) break;
  }
  if (!status.ok()) call.context()->TryCancel();
  absl::Status finished = FromGrpcStatus(reader->Finish());
  *repaired += applier.applied();
  if (!status.ok()) return status;
  if (!finished.ok()) metrics_->AddRpcFailure(PeerCall::kFetchRecords);
  return finished;
}

}  // namespace kv::gossip
