#ifndef KV_GOSSIP_GOSSIP_SERVICE_H_
#define KV_GOSSIP_GOSSIP_SERVICE_H_

// Serves kv.gossip.v1.Gossip: the answering side of gossip exchanges (membership merge,
// replica summary) and of anti-entropy repair (bucket hashes, version listings, records).
// Every node runs it.
//
// Invariants / thread safety
// - Unary calls answer inline from memory (membership, the store's counters and hashes).
// - Streams read the store on the service's executor, one bounded message at a time:
//   a listing scans at most `buckets_per_scan` buckets per snapshot and sends at most
//   `versions_per_message` versions per message; records go `records_per_message` (or
//   `record_bytes_per_message` of values) per message, and a chunked value alone, its
//   chunks one message each (as Subscribe frames them).
// Thread-safe.

#include "common/executor.h"
#include "gossip/membership.h"
#include "kv/gossip/v1/gossip.grpc.pb.h"
#include "storage/store.h"

namespace kv::gossip {

struct GossipServiceOptions {
  // Buckets scanned per store snapshot when listing versions: the scan holds their
  // versions in memory (about 1/16 of the keys at 64 of 1024 buckets).
  int buckets_per_scan = 64;
  // Versions per ListVersions message.
  int versions_per_message = 2048;
  // Records, and inline value bytes, per FetchRecords message.
  int records_per_message = 256;
  int64_t record_bytes_per_message = 1 << 20;
  // Most keys one FetchRecords call may ask for.
  int max_keys_per_fetch = 10000;
  // Threads reading the store for all streams.
  int threads = 2;
};

class GossipService final : public kv::gossip::v1::Gossip::CallbackService {
 public:
  // `store` and `membership` must outlive the service; shut the gRPC server down before
  // destroying it.
  GossipService(storage::Store* store, Membership* membership, GossipServiceOptions options = {});

  // Merges the caller's view and marks it alive; answers with this replica's summary and
  // the merged view. INVALID_ARGUMENT without a sender id.
  grpc::ServerUnaryReactor* Digest(grpc::CallbackServerContext* call,
                                   const kv::gossip::v1::DigestRequest* request,
                                   kv::gossip::v1::DigestResponse* response) override;
  grpc::ServerUnaryReactor* BucketHashes(grpc::CallbackServerContext* call,
                                         const kv::gossip::v1::BucketHashesRequest* request,
                                         kv::gossip::v1::BucketHashesResponse* response) override;
  // UNAVAILABLE when this replica adopted another lineage during the listing (retry).
  grpc::ServerWriteReactor<kv::gossip::v1::ListVersionsResponse>* ListVersions(
      grpc::CallbackServerContext* call,
      const kv::gossip::v1::ListVersionsRequest* request) override;
  // INVALID_ARGUMENT for more than max_keys_per_fetch keys.
  grpc::ServerWriteReactor<kv::replication::v1::LogBatch>* FetchRecords(
      grpc::CallbackServerContext* call,
      const kv::gossip::v1::FetchRecordsRequest* request) override;
  // Adds the joining node; INVALID_ARGUMENT without an id or address.
  grpc::ServerUnaryReactor* Join(grpc::CallbackServerContext* call,
                                 const kv::gossip::v1::JoinRequest* request,
                                 kv::gossip::v1::JoinResponse* response) override;

 private:
  class ListVersionsProducer;
  class FetchRecordsProducer;

  storage::Store* const store_;
  Membership* const membership_;
  const GossipServiceOptions options_;
  Executor executor_;
};

}  // namespace kv::gossip

#endif  // KV_GOSSIP_GOSSIP_SERVICE_H_
