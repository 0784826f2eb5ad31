#ifndef KV_NODE_SERVICE_CONTEXT_H_
#define KV_NODE_SERVICE_CONTEXT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "kv/v1/kv.pb.h"
#include "node/rpc_metrics.h"
#include "storage/store.h"

namespace kv::node {

// What the KV service and its reactors share. Everything pointed to outlives the
// gRPC server. Thread-safe (all members are).
class Forwarder;

struct ServiceContext {
  storage::Store* store = nullptr;
  // Set on edges: writes go to the origin through it. Null on the origin.
  Forwarder* forwarder = nullptr;
  const Clock* clock = nullptr;
  RpcMetrics* metrics = nullptr;  // may be null
  std::string node_id;
  kv::v1::NodeRole role = kv::v1::NODE_ROLE_ORIGIN;

  // Fills a response header; `sequence` 0 means "the store's current position".
  void FillHeader(kv::v1::ResponseHeader* header, uint64_t sequence = 0) const {
    header->set_node_id(node_id);
    header->set_role(role);
    header->set_applied_sequence(sequence != 0 ? sequence : store->AppliedSequence());
  }

  // Returns OK if `ns_id` is well-formed and names a live namespace.
  absl::Status CheckNamespace(absl::string_view ns_id) const;

  // The reads of a bulk get (gRPC BulkGet, RESP HMGET), once the namespace and the key
  // count are checked: checks every key, then returns each key's live value (chunks not
  // yet read), in order. INVALID_ARGUMENT for a bad key, or with the bulk get text if the
  // keys and values (and metadata, if `with_metadata`) add up to more than 25 MiB.
  absl::StatusOr<std::vector<std::optional<storage::StoredValue>>> ReadMany(
      absl::string_view ns_id, absl::Span<const absl::string_view> keys,
      bool with_metadata) const;
};

}  // namespace kv::node

#endif  // KV_NODE_SERVICE_CONTEXT_H_
