#ifndef KV_NODE_CLUSTER_CONFIG_H_
#define KV_NODE_CLUSTER_CONFIG_H_

// A cluster described by a YAML file in cluster-configs/ (format in doc/cluster-config.md):
//
//   cluster: local-1
//   nodes:
//     - id: origin
//       role: origin          # origin | edge
//       region: eu-west
//       grpc: 127.0.0.1:7400
//       metrics: 127.0.0.1:9400
//       stream_port: 7450     # optional: the TCP replication stream's port (0: any free)
//       resp: 127.0.0.1:7650  # optional: the RESP port (HGET, KV.PUT on the origin)
//       data_dir: origin      # relative paths resolve against the data root
//   replication:              # optional
//     heartbeat_ms: 1000
//     forward_apply_wait_ms: 5000
//     log_retention_entries: 1000000
//     gossip_interval_ms: 1000
//     min_batch_interval_ms: 0
//     stream_transport: tcp   # tcp | grpc: how edges follow the origin's log
//   latency:                  # optional: modelled one-way latency between regions
//     enabled: true
//     intra_region_ms: 2
//     default_ms: 80
//     regions: [[eu-west, us-east, 40]]

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/latency_model.h"
#include "absl/strings/string_view.h"

namespace kv::node {

enum class Role { kOrigin, kEdge };

struct NodeConfig {
  std::string id;
  Role role = Role::kOrigin;
  std::string region;
  std::string grpc_address;
  std::string metrics_address;  // empty: no metrics endpoint
  std::string resp_address;     // empty: no RESP port (resp_server.h)
  int stream_port = 0;          // on grpc_address's host; 0: any free port
  std::string data_dir;
};

// Replication settings shared by every node of a cluster (all optional).
struct ReplicationConfig {
  absl::Duration heartbeat = absl::Seconds(1);           // idle stream heartbeat
  absl::Duration forward_apply_wait = absl::Seconds(5);  // edge waits to see its write
  int64_t log_retention_entries = 1'000'000;             // entries kept for catch-up
  absl::Duration gossip_interval = absl::Seconds(1);     // anti-entropy round period
  // Least time between two replication batches on one stream (0: none); see
  // ReplicationServiceOptions::min_batch_interval.
  absl::Duration min_batch_interval = absl::ZeroDuration();
  // Edges follow the origin's log over plain TCP (true) or over gRPC Subscribe.
  bool stream_over_tcp = true;
};

struct ClusterConfig {
  std::string name;
  std::vector<NodeConfig> nodes;
  ReplicationConfig replication;
  // One-way latency between regions, applied to every inter-node link when enabled.
  LatencyModel latency;

  // Returns the node named `id`, or nullptr.
  const NodeConfig* Find(absl::string_view id) const;
  // Returns the origin (Parse guarantees there is exactly one).
  const NodeConfig& origin() const;

  // Parses YAML text. INVALID_ARGUMENT names the offending field: unknown role,
  // duplicate id or address, missing field, not exactly one origin.
  static absl::StatusOr<ClusterConfig> Parse(absl::string_view yaml);
  // Reads and parses a file; NOT_FOUND if it cannot be read.
  static absl::StatusOr<ClusterConfig> Load(const std::string& path);
};

}  // namespace kv::node

#endif  // KV_NODE_CLUSTER_CONFIG_H_
