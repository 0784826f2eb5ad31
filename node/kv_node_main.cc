// kv-node: one EdgeKV node.
//
//   kv-node --config cluster-configs/local-1.yaml --node-id origin
//   kv-node --data-dir /var/lib/edgekv --listen 127.0.0.1:7400 --metrics 127.0.0.1:9400
//
// Stops gracefully on SIGTERM or SIGINT: in-flight calls finish, then the database is
// closed cleanly.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "node/cluster_config.h"
#include "node/node.h"

namespace {

// Writes `text` to `path` atomically (readers never see a partial file).
bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!(out << text)) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Raises the soft open-file limit to the hard one (at most 65,536): LevelDB's files,
// gRPC's and the RESP port's connections share it, and the usual soft limit is 1,024.
void RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  const rlim_t want = std::min<rlim_t>(files.rlim_max, 65536);
  if (files.rlim_cur >= want) return;
  files.rlim_cur = want;
  (void)setrlimit(RLIMIT_NOFILE, &files);
}

int Run(int argc, char** argv) {
  RaiseOpenFileLimit();
  CLI::App app{"EdgeKV node: serves the kv.v1 gRPC API from a local LevelDB replica."};
  app.set_version_flag("--version", "kv-node 0.1.0");
  std::string config_path, node_id, listen, metrics, resp, data_dir, data_root, ready_file;
  double sweep_interval_s = 1.0, shutdown_grace_s = 10.0;
  int stream_port = -1;  // -1: not given
  bool list_nodes = false;
  std::string join_seed, region;
  int grpc_memory_mib = 0;
  bool grpc_bdp_probe = false;
  int get_threads = 0;
  bool stream_on_resp_loop = true;
  app.add_option("--config", config_path,
                 "Cluster config (YAML, see cluster-configs/); requires --node-id");
  app.add_option("--node-id", node_id, "This node's id (in the config, or any name)");
  app.add_option("--listen", listen,
                 "gRPC address host:port (port 0 = any free port); overrides the config")
      ->capture_default_str();
  app.add_option("--metrics", metrics,
                 "Prometheus /metrics address host:port; overrides the config; \"off\" disables");
  app.add_option("--resp", resp,
                 "RESP port host:port (port 0 = any free port): the Redis protocol, "
                 "HGET <namespace id> <key> (and, on the origin, KV.PUT <namespace id> <key> "
                 "<value> / KV.DELETE), at a fraction of a gRPC call's CPU; "
                 "overrides the config; \"off\" disables (default: the config's, else off)");
  app.add_option("--stream-port", stream_port,
                 "Port of the replication stream over plain TCP, on the --listen host "
                 "(0 = any free port; edges learn it from the node); overrides the config")
      ->check(CLI::Range(0, 65535));
  app.add_option("--data-dir", data_dir, "Database directory; overrides the config");
  app.add_option("--data-root", data_root,
                 "Directory that relative data_dir paths of the config resolve against "
                 "(default: the current directory)");
  app.add_option("--ready-file", ready_file,
                 "Once serving, write {node_id, grpc, metrics, resp, pid} as JSON to this file");
  app.add_option("--sweep-interval", sweep_interval_s,
                 "Seconds between expiry sweeps (0 disables)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--shutdown-grace", shutdown_grace_s,
                 "Seconds in-flight calls may take to finish on shutdown")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--join", join_seed,
                 "Join a running cluster as a new edge through the node at HOST:PORT (any "
                 "member); it tells this edge the origin and the other members. Needs "
                 "--node-id, a fixed --listen port and --data-dir (or --config for the "
                 "cluster's replication and latency settings)");
  app.add_option("--region", region, "This node's region (for --join; else from --config)");
  app.add_flag("--grpc-bdp-probe", grpc_bdp_probe,
               "Let gRPC grow flow-control windows to the link's bandwidth-delay product: "
               "faster large transfers to distant clients, but each upload may buffer many "
               "MiB in the node (default off: about one 1 MiB message per upload)");
  app.add_option("--grpc-memory-mib", grpc_memory_mib,
                 "Hard cap on gRPC's buffer memory; past it new streams are refused with "
                 "RESOURCE_EXHAUSTED (0 = no cap)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--get-threads", get_threads,
                 "Threads serving Get, each taking a call from arrival to answer itself "
                 "(0 = one per 4 cores, at least one). One costs the least CPU per read; "
                 "more serve more reads at once on machines with cores to spare")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--stream-on-resp-loop", stream_on_resp_loop,
                 "An edge with a RESP port reads its replication stream, once caught up, on "
                 "the RESP port's event-loop thread, so one wake-up serves a batch and the "
                 "reads that came with it (false: always on a thread of its own)")
      ->capture_default_str();
  app.add_flag("--list-nodes", list_nodes,
               "Print the nodes of --config, one per line (id role region grpc metrics "
               "data_dir resp, \"-\" for an endpoint that is off), and exit; used by "
               "scripts/cluster");
  app.footer(
      "\nExamples:\n"
      "  kv-node --config cluster-configs/local-1.yaml --node-id origin --data-root run/local-1\n"
      "  kv-node --data-dir /tmp/kv --listen 127.0.0.1:0 --metrics off --ready-file /tmp/kv.json");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every flag error exits 2, like the checks below.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (list_nodes) {
    absl::StatusOr<kv::node::ClusterConfig> config = kv::node::ClusterConfig::Load(config_path);
    if (!config.ok()) {
      std::fprintf(stderr, "kv-node: %s\n", config.status().ToString().c_str());
      return 2;
    }
    for (const kv::node::NodeConfig& n : config->nodes) {
      std::printf("%s %s %s %s %s %s %s\n", n.id.c_str(),
                  n.role == kv::node::Role::kOrigin ? "origin" : "edge",
                  n.region.empty() ? "-" : n.region.c_str(), n.grpc_address.c_str(),
                  n.metrics_address.empty() ? "-" : n.metrics_address.c_str(), n.data_dir.c_str(),
                  n.resp_address.empty() ? "-" : n.resp_address.c_str());
    }
    return 0;
  }

  kv::node::NodeOptions options;
  if (!node_id.empty()) options.node_id = node_id;
  std::string metrics_address;
  kv::LatencyModel latency;
  if (!config_path.empty()) {
    if (node_id.empty()) {
      std::fprintf(stderr, "kv-node: --config needs --node-id\n");
      return 2;
    }
    absl::StatusOr<kv::node::ClusterConfig> config = kv::node::ClusterConfig::Load(config_path);
    if (!config.ok()) {
      std::fprintf(stderr, "kv-node: %s\n", config.status().ToString().c_str());
      return 2;
    }
    const kv::node::NodeConfig* self = config->Find(node_id);
    if (self == nullptr && join_seed.empty()) {
      std::fprintf(stderr, "kv-node: node \"%s\" is not in %s (to add a node, use --join)\n",
                   node_id.c_str(), config_path.c_str());
      return 2;
    }
    if (self != nullptr) {
      options.listen_address = self->grpc_address;
      options.stream_port = self->stream_port;
      metrics_address = self->metrics_address;
      options.resp_address = self->resp_address;
      options.role = self->role;
      options.region = self->region;
      std::filesystem::path dir(self->data_dir);
      if (dir.is_relative() && !data_root.empty()) dir = std::filesystem::path(data_root) / dir;
      options.data_dir = dir.string();
    } else {
      options.role = kv::node::Role::kEdge;
      if (!data_root.empty()) options.data_dir = (std::filesystem::path(data_root) / node_id).string();
    }
    for (const kv::node::NodeConfig& n : config->nodes) {
      kv::gossip::Member m;
      m.id = n.id;
      m.role = n.role == kv::node::Role::kOrigin ? kv::gossip::kRoleOrigin : kv::gossip::kRoleEdge;
      m.region = n.region;
      m.address = n.grpc_address;
      options.members.push_back(m);
    }
    options.gossip_interval = config->replication.gossip_interval;
    const kv::node::NodeConfig& origin = config->origin();
    options.origin = kv::PeerAddress{origin.id, origin.region, origin.grpc_address};
    options.replication.heartbeat = config->replication.heartbeat;
    options.replication.min_batch_interval = config->replication.min_batch_interval;
    options.stream_transport = config->replication.stream_over_tcp
                                   ? kv::replication::StreamTransport::kTcp
                                   : kv::replication::StreamTransport::kGrpc;
    options.forward_apply_wait = config->replication.forward_apply_wait;
    options.sweeper.log_retention_entries = config->replication.log_retention_entries;
    latency = config->latency;
  }
  if (!join_seed.empty()) {
    options.role = kv::node::Role::kEdge;
    options.join_seed = join_seed;
    if (listen.empty() || listen.ends_with(":0")) {
      std::fprintf(stderr, "kv-node: --join needs a fixed --listen port (peers dial it)\n");
      return 2;
    }
  }
  if (!region.empty()) options.region = region;
  if (!listen.empty()) options.listen_address = listen;
  if (stream_port >= 0) options.stream_port = stream_port;
  if (!metrics.empty()) metrics_address = metrics == "off" ? "" : metrics;
  if (!resp.empty()) options.resp_address = resp == "off" ? "" : resp;
  if (!data_dir.empty()) options.data_dir = data_dir;
  if (options.data_dir.empty()) {
    std::fprintf(stderr, "kv-node: no data directory: pass --data-dir or --config\n");
    return 2;
  }
  options.sweeper.interval = absl::Seconds(sweep_interval_s);
  options.shutdown_grace = absl::Seconds(shutdown_grace_s);
  options.grpc_memory_bytes = static_cast<size_t>(grpc_memory_mib) << 20;
  options.grpc_bdp_probe = grpc_bdp_probe;
  options.get_threads = get_threads;
  options.stream_on_resp_loop = stream_on_resp_loop;

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "kv-node: cannot create %s: %s\n", options.data_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string metrics_bound;
  if (!metrics_address.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(metrics_address);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kv-node: cannot serve metrics on %s: %s\n", metrics_address.c_str(),
                   e.what());
      return 1;
    }
    exposer->RegisterCollectable(registry);
    const std::vector<int> ports = exposer->GetListeningPorts();
    const std::string host = metrics_address.substr(0, metrics_address.rfind(':'));
    metrics_bound = host + ":" + std::to_string(ports.empty() ? 0 : ports.front());
  }

  // Inter-node links: through bridges that add the modelled latency, or (null) the
  // node's own direct TCP channels.
  std::unique_ptr<kv::ChannelFactory> channels;
  if (latency.enabled()) {
    channels = std::make_unique<kv::BridgedChannelFactory>(options.region, latency);
    KV_LOG_INFO("modelling inter-region latency from region ", options.region);
  }
  kv::node::NodeDeps deps;
  deps.registry = registry.get();
  deps.channels = channels.get();
  absl::StatusOr<std::unique_ptr<kv::node::Node>> node = kv::node::Node::Create(options, deps);
  if (!node.ok()) {
    std::fprintf(stderr, "kv-node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  KV_LOG_INFO("metrics on ", metrics_bound.empty() ? "(off)" : "http://" + metrics_bound + "/metrics");
  if (!ready_file.empty()) {
    nlohmann::json ready = {{"node_id", options.node_id},
                            {"grpc", (*node)->address()},
                            {"metrics", metrics_bound},
                            {"resp", (*node)->resp_address()},
                            {"pid", static_cast<int>(getpid())}};
    if (!WriteFileAtomically(ready_file, ready.dump() + "\n")) {
      std::fprintf(stderr, "kv-node: cannot write %s\n", ready_file.c_str());
      return 1;
    }
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  KV_LOG_INFO("received ", received == SIGINT ? "SIGINT" : "SIGTERM", ", shutting down");
  (*node)->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread (threads inherit the mask), so only the
  // sigwait() in Run() receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a global graph
  // behind one lock): measurable CPU on a busy node. The tests keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv-node: fatal: %s\n", e.what());
    return 1;
  }
}
