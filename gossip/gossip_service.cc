#include "gossip/gossip_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "gossip/pumped_write_reactor.h"
#include "gossip/wire.h"
#include "replication/shipping.h"

namespace kv::gossip {

namespace rv1 = kv::replication::v1;

// Lists the versions of the requested buckets a group of buckets (one store snapshot) at
// a time, a bounded number per message.
class GossipService::ListVersionsProducer {
 public:
  ListVersionsProducer(const storage::Store* store, const GossipServiceOptions& options,
                       const v1::ListVersionsRequest& request)
      : store_(store),
        buckets_per_scan_(std::max(1, options.buckets_per_scan)),
        versions_per_message_(std::max(1, options.versions_per_message)),
        namespaces_only_(request.namespaces_only()) {
    if (namespaces_only_) {
      // The store has no namespace-only scan: one bucket's scan carries every namespace.
      buckets_.push_back(0);
    } else if (request.buckets().empty()) {
      for (uint32_t b = 0; b < storage::kBucketCount; ++b) buckets_.push_back(b);
    } else {
      for (uint32_t b : request.buckets()) buckets_.push_back(b % storage::kBucketCount);
      std::sort(buckets_.begin(), buckets_.end());
      buckets_.erase(std::unique(buckets_.begin(), buckets_.end()), buckets_.end());
    }
  }

  absl::StatusOr<bool> operator()(v1::ListVersionsResponse* out) {
    while (next_version_ == versions_.size() && next_bucket_ < buckets_.size()) {
      KV_RETURN_IF_ERROR(ScanNextGroup());
    }
    if (next_version_ == versions_.size() && sent_any_) return false;
    sent_any_ = true;
    for (const auto& [id, record] : namespaces_) {
      replication::NamespaceToProto(id, record, out->add_namespaces());
    }
    namespaces_.clear();
    out->set_applied_sequence(applied_);
    out->set_epoch(epoch_);
    for (int n = 0; n < versions_per_message_ && next_version_ < versions_.size(); ++n) {
      const storage::VersionInfo& v = versions_[next_version_++];
      v1::Version* version = out->add_versions();
      version->set_namespace_id(v.ns_id);
      version->set_key(v.key);
      version->set_hlc(v.hlc);
      version->set_origin(v.origin);
      version->set_tombstone(v.tombstone);
    }
    return true;
  }

 private:
  absl::Status ScanNextGroup() {
    const size_t end = std::min(buckets_.size(), next_bucket_ + buckets_per_scan_);
    const std::vector<uint32_t> group(buckets_.begin() + static_cast<ptrdiff_t>(next_bucket_),
                                      buckets_.begin() + static_cast<ptrdiff_t>(end));
    next_bucket_ = end;
    versions_.clear();
    next_version_ = 0;
    std::vector<std::pair<std::string, storage::NamespaceRecord>> namespaces;
    const uint64_t epoch = store_->Epoch();
    KV_RETURN_IF_ERROR(store_->ScanVersions(group, &versions_, &namespaces, &applied_));
    // The epoch is not read at the snapshot: a lineage change during the scan would pair
    // versions with the wrong lineage.
    if (store_->Epoch() != epoch) {
      return absl::UnavailableError("this replica changed log lineage during the listing");
    }
    epoch_ = epoch;
    if (!scanned_) namespaces_ = std::move(namespaces);  // the first message carries them
    scanned_ = true;
    if (namespaces_only_) versions_.clear();
    return absl::OkStatus();
  }

  const storage::Store* const store_;
  const size_t buckets_per_scan_;
  const int versions_per_message_;
  const bool namespaces_only_;
  std::vector<uint32_t> buckets_;
  size_t next_bucket_ = 0;
  std::vector<storage::VersionInfo> versions_;  // of the group being sent
  size_t next_version_ = 0;
  std::vector<std::pair<std::string, storage::NamespaceRecord>> namespaces_;
  uint64_t applied_ = 0;
  uint64_t epoch_ = 0;
  bool scanned_ = false;
  bool sent_any_ = false;
};

// Sends the current records of the requested keys, framed as Subscribe frames log
// entries: a chunked value travels alone and its further chunks follow as continuations.
class GossipService::FetchRecordsProducer {
 public:
  FetchRecordsProducer(const storage::Store* store, const GossipServiceOptions& options,
                       const v1::FetchRecordsRequest& request)
      : store_(store),
        records_per_message_(std::max(1, options.records_per_message)),
        bytes_per_message_(options.record_bytes_per_message) {
    keys_.reserve(static_cast<size_t>(request.keys_size()));
    for (const v1::RecordKey& k : request.keys()) keys_.emplace_back(k.namespace_id(), k.key());
  }

  absl::StatusOr<bool> operator()(rv1::LogBatch* out) {
    out->set_epoch(store_->Epoch());
    out->set_sender_applied_sequence(store_->AppliedSequence());
    if (blob_) {
      KV_ASSIGN_OR_RETURN(*out->mutable_continuation(), blob_->ReadChunk(next_chunk_++));
      if (next_chunk_ == blob_->ref().chunk_count()) blob_.reset();
      out->set_horizon(store_->VersionHorizon());
      return true;
    }
    int64_t bytes = 0;
    while (next_key_ < keys_.size() && out->entries_size() < records_per_message_ &&
           bytes < bytes_per_message_) {
      if (!held_) {
        KV_ASSIGN_OR_RETURN(std::vector<storage::ShippedRecord> found,
                            store_->ReadRecords({keys_[next_key_]}));
        if (found.empty()) {  // gone since it was listed
          ++next_key_;
          continue;
        }
        held_ = std::move(found.front());
      }
      // A chunked value travels alone: kept, as read, for the next message.
      if (held_->blob && out->entries_size() > 0) break;
      storage::ShippedRecord record = std::move(*held_);
      held_.reset();
      ++next_key_;
      rv1::LogEntry* entry = out->add_entries();
      entry->set_sequence(0);  // a repair record, outside the log
      entry->set_hlc(record.hlc);
      entry->set_origin(record.origin);
      KV_RETURN_IF_ERROR(replication::RecordToProto(record, entry->mutable_record()));
      if (record.blob) {
        if (record.blob->ref().chunk_count() > 1) {
          blob_ = std::move(record.blob);
          next_chunk_ = 1;
        }
        break;
      }
      bytes += static_cast<int64_t>(record.inline_value.size());
    }
    out->set_horizon(store_->VersionHorizon());
    return out->entries_size() > 0;
  }

 private:
  const storage::Store* const store_;
  const int records_per_message_;
  const int64_t bytes_per_message_;
  std::vector<std::pair<std::string, std::string>> keys_;
  // The record of keys_[next_key_], read but not yet sent.
  std::optional<storage::ShippedRecord> held_;
  size_t next_key_ = 0;
  std::unique_ptr<storage::BlobReader> blob_;  // the value whose chunks are being sent
  uint32_t next_chunk_ = 0;
};

GossipService::GossipService(storage::Store* store, Membership* membership,
                             GossipServiceOptions options)
    : store_(store), membership_(membership), options_(options), executor_(options.threads) {}

grpc::ServerUnaryReactor* GossipService::Digest(grpc::CallbackServerContext* call,
                                                const v1::DigestRequest* request,
                                                v1::DigestResponse* response) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  if (request->sender().id().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "digest without a sender id"));
    return reactor;
  }
  membership_->Merge(ViewFromProto(request->members()));
  const Member sender = MemberFromProto(request->sender());
  membership_->Heard(sender);
  membership_->LearnOriginEpoch(request->origin_epoch(), /*direct=*/sender.role == kRoleOrigin);

  const Member self = membership_->Self();
  const storage::ReplicaSummary summary = store_->Summary();
  response->set_node_id(self.id);
  response->set_role(self.role);
  response->set_epoch(summary.epoch);
  response->set_applied_sequence(summary.applied_sequence);
  response->set_log_start(summary.log_start);
  response->set_hash(summary.hash);
  response->set_origin_epoch(KnownOriginEpoch(*membership_, *store_));
  if (request->epoch() != 0 && request->epoch() == summary.epoch) {
    const uint64_t at = std::min(request->applied_sequence(), summary.applied_sequence);
    if (std::optional<uint64_t> fp = store_->FingerprintAt(at)) {
      response->set_fingerprint_sequence(at);
      response->set_fingerprint(*fp);
    }
  }
  ViewToProto(membership_->Snapshot(), response->mutable_members());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* GossipService::BucketHashes(grpc::CallbackServerContext* call,
                                                      const v1::BucketHashesRequest* request,
                                                      v1::BucketHashesResponse* response) {
  // The applied sequence is read first: the store publishes a group's hashes before its
  // sequence, so the hashes reflect at least every entry up to it.
  response->set_node_id(membership_->Self().id);
  response->set_epoch(store_->Epoch());
  response->set_applied_sequence(store_->AppliedSequence());
  for (uint64_t h : store_->BucketHashSnapshot()) response->add_hashes(h);
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::ListVersionsResponse>* GossipService::ListVersions(
    grpc::CallbackServerContext* call, const v1::ListVersionsRequest* request) {
  return new PumpedWriteReactor<v1::ListVersionsResponse>(
      &executor_, ListVersionsProducer(store_, options_, *request));
}

grpc::ServerWriteReactor<rv1::LogBatch>* GossipService::FetchRecords(
    grpc::CallbackServerContext* call, const v1::FetchRecordsRequest* request) {
  if (request->keys_size() > options_.max_keys_per_fetch) {
    return PumpedWriteReactor<rv1::LogBatch>::Failed(
        &executor_, absl::InvalidArgumentError(
                        absl::StrCat("FetchRecords asks for ", request->keys_size(),
                                     " keys; at most ", options_.max_keys_per_fetch, " per call")));
  }
  return new PumpedWriteReactor<rv1::LogBatch>(&executor_,
                                               FetchRecordsProducer(store_, options_, *request));
}

grpc::ServerUnaryReactor* GossipService::Join(grpc::CallbackServerContext* call,
                                              const v1::JoinRequest* request,
                                              v1::JoinResponse* response) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  const Member member = MemberFromProto(request->member());
  if (member.id.empty() || member.address.empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "a joining member needs an id and an address"));
    return reactor;
  }
  membership_->Heard(member);
  ViewToProto(membership_->Snapshot(), response->mutable_members());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace kv::gossip
