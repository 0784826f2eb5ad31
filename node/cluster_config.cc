#include "node/cluster_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/socket.h"

namespace kv::node {
namespace {

absl::StatusOr<std::string> RequiredString(const YAML::Node& node, const char* field,
                                           absl::string_view where) {
  const YAML::Node value = node[field];
  if (!value || !value.IsScalar() || value.as<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": missing field \"", field, "\""));
  }
  return value.as<std::string>();
}

absl::StatusOr<ClusterConfig> ParseYaml(const YAML::Node& root);

}  // namespace

const NodeConfig& ClusterConfig::origin() const {
  for (const NodeConfig& n : nodes) {
    if (n.role == Role::kOrigin) return n;
  }
  return nodes.front();  // unreachable for a parsed config
}

const NodeConfig* ClusterConfig::Find(absl::string_view id) const {
  for (const NodeConfig& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

absl::StatusOr<ClusterConfig> ClusterConfig::Parse(absl::string_view yaml) {
  // yaml-cpp reports malformed input and wrong node types by throwing; this is the
  // boundary where that becomes a Status.
  try {
    return ParseYaml(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cluster config is not valid: ", e.what()));
  }
}

namespace {

absl::StatusOr<ClusterConfig> ParseYaml(const YAML::Node& root) {
  ClusterConfig config;
  if (root["cluster"] && root["cluster"].IsScalar()) config.name = root["cluster"].as<std::string>();
  const YAML::Node nodes = root["nodes"];
  if (!nodes || !nodes.IsSequence() || nodes.size() == 0) {
    return absl::InvalidArgumentError("cluster config: \"nodes\" must be a non-empty list");
  }
  std::set<std::string> ids, addresses;
  int origins = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const YAML::Node n = nodes[i];
    const std::string where = absl::StrCat("cluster config: nodes[", i, "]");
    if (!n.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, " is not a map"));
    NodeConfig node;
    absl::StatusOr<std::string> v = RequiredString(n, "id", where);
    if (!v.ok()) return v.status();
    node.id = *v;
    v = RequiredString(n, "role", where);
    if (!v.ok()) return v.status();
    if (*v == "origin") {
      node.role = Role::kOrigin;
      ++origins;
    } else if (*v == "edge") {
      node.role = Role::kEdge;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": role \"", *v, "\" is not \"origin\" or \"edge\""));
    }
    v = RequiredString(n, "grpc", where);
    if (!v.ok()) return v.status();
    node.grpc_address = *v;
    if (n["region"]) node.region = n["region"].as<std::string>();
    if (n["metrics"]) node.metrics_address = n["metrics"].as<std::string>();
    if (n["resp"]) node.resp_address = n["resp"].as<std::string>();
    if (const YAML::Node port = n["stream_port"]; port) {
      const int64_t value = port.IsScalar() ? port.as<int64_t>(-1) : -1;
      if (value < 0 || value > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": stream_port must be a port number between 0 and 65535, not \"",
                         port.IsScalar() ? port.Scalar() : "(not a number)", "\""));
      }
      node.stream_port = static_cast<int>(value);
    }
    node.data_dir = n["data_dir"] ? n["data_dir"].as<std::string>() : node.id;
    if (!ids.insert(node.id).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate id \"", node.id, "\""));
    }
    std::string stream_address, host;
    int grpc_port = 0;
    if (node.stream_port != 0 && SplitHostPort(node.grpc_address, &host, &grpc_port).ok()) {
      stream_address = JoinHostPort(host, node.stream_port);
    }
    for (const std::string& address :
         {node.grpc_address, node.metrics_address, stream_address, node.resp_address}) {
      if (!address.empty() && !address.ends_with(":0") && !addresses.insert(address).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": address ", address, " is used twice",
                         address == stream_address ? " (stream_port on the grpc host)" : ""));
      }
    }
    config.nodes.push_back(std::move(node));
  }
  if (const YAML::Node r = root["replication"]; r) {
    if (!r.IsMap()) return absl::InvalidArgumentError("cluster config: \"replication\" is not a map");
    auto millis = [&](const char* field, absl::Duration* out) -> absl::Status {
      if (!r[field]) return absl::OkStatus();
      const int64_t ms = r[field].as<int64_t>();
      if (ms <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("cluster config: replication.", field, " must be positive"));
      }
      *out = absl::Milliseconds(ms);
      return absl::OkStatus();
    };
    for (auto [field, out] : {std::pair{"heartbeat_ms", &config.replication.heartbeat},
                              {"forward_apply_wait_ms", &config.replication.forward_apply_wait},
                              {"gossip_interval_ms", &config.replication.gossip_interval}}) {
      if (absl::Status st = millis(field, out); !st.ok()) return st;
    }
    if (r["min_batch_interval_ms"]) {
      const int64_t ms = r["min_batch_interval_ms"].as<int64_t>();
      if (ms < 0 || ms > 1000) {
        return absl::InvalidArgumentError(
            "cluster config: replication.min_batch_interval_ms must be between 0 and 1000");
      }
      config.replication.min_batch_interval = absl::Milliseconds(ms);
    }
    if (r["stream_transport"]) {
      const std::string transport = r["stream_transport"].as<std::string>();
      if (transport != "tcp" && transport != "grpc") {
        return absl::InvalidArgumentError(absl::StrCat(
            "cluster config: replication.stream_transport must be tcp or grpc, not \"",
            transport, "\""));
      }
      config.replication.stream_over_tcp = transport == "tcp";
    }
    if (r["log_retention_entries"]) {
      config.replication.log_retention_entries = r["log_retention_entries"].as<int64_t>();
      if (config.replication.log_retention_entries < 1) {
        return absl::InvalidArgumentError(
            "cluster config: replication.log_retention_entries must be positive");
      }
    }
  }
  if (const YAML::Node l = root["latency"]; l) {
    absl::StatusOr<LatencyModel> model = LatencyModel::FromYaml(l);
    if (!model.ok()) return model.status();
    config.latency = *std::move(model);
  }
  if (origins != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster config: expected exactly one origin, found ", origins));
  }
  return config;
}

}  // namespace

absl::StatusOr<ClusterConfig> ClusterConfig::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read cluster config ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ClusterConfig> config = Parse(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace kv::node
