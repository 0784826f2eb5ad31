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
//       data_dir: origin      # relative paths resolve against the data root

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::node {

enum class Role { kOrigin, kEdge };

struct NodeConfig {
  std::string id;
  Role role = Role::kOrigin;
  std::string region;
  std::string grpc_address;
  std::string metrics_address;  // empty: no metrics endpoint
  std::string data_dir;
};

struct ClusterConfig {
  std::string name;
  std::vector<NodeConfig> nodes;

  // Returns the node named `id`, or nullptr.
  const NodeConfig* Find(absl::string_view id) const;

  // Parses YAML text. INVALID_ARGUMENT names the offending field: unknown role,
  // duplicate id or address, missing field, not exactly one origin.
  static absl::StatusOr<ClusterConfig> Parse(absl::string_view yaml);
  // Reads and parses a file; NOT_FOUND if it cannot be read.
  static absl::StatusOr<ClusterConfig> Load(const std::string& path);
};

}  // namespace kv::node

#endif  // KV_NODE_CLUSTER_CONFIG_H_
