#ifndef KV_GOSSIP_TESTING_GOSSIP_CLUSTER_H_
#define KV_GOSSIP_TESTING_GOSSIP_CLUSTER_H_

// An in-process cluster for gossip tests: each node has a Store on its own in-memory file
// system, a gRPC server on 127.0.0.1:0 serving Replication and Gossip, a
// BridgedChannelFactory (so the test can cut its links) and a Gossiper the test ticks.
// Writes go to the origin's store directly (CommitAndWait, kAssign); edges receive them
// only through the services. Nodes can be restarted (same port), wiped, or damaged while
// closed.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/channel_factory.h"
#include "common/clock.h"
#include "gossip/gossip_service.h"
#include "gossip/gossiper.h"
#include "gossip/membership.h"
#include "leveldb/helpers/memenv.h"
#include "replication/replication_metrics.h"
#include "replication/replication_service.h"
#include "storage/store.h"

namespace kv::gossip::testing {

inline const absl::Time kClusterStart = absl::FromUnixSeconds(1'800'000'000);

struct TestNode {
  std::string id;
  std::string role;
  int port = 0;
  std::unique_ptr<leveldb::Env> env;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<BridgedChannelFactory> channels;
  // One life of the node (rebuilt by GossipCluster::Restart).
  std::unique_ptr<prometheus::Registry> registry;
  replication::ReplicationMetrics replication_metrics;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<replication::ReplicationService> replication;
  std::unique_ptr<GossipService> gossip;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<Gossiper> gossiper;

  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
  PeerAddress peer() const { return PeerAddress{id, "r", address()}; }
};

class GossipCluster {
 public:
  GossipCluster() : clock_(kClusterStart) {}
  ~GossipCluster() {
    for (auto& [id, node] : nodes_) Stop(*node);
  }

  SimulatedClock& clock() { return clock_; }
  TestNode& node(const std::string& id) { return *nodes_.at(id); }
  std::vector<TestNode*> nodes() {
    std::vector<TestNode*> out;
    for (auto& [id, node] : nodes_) out.push_back(node.get());
    return out;
  }

  // Small batches and groups, so tests exercise every multi-message path cheaply.
  GossipServiceOptions service_options;
  GossiperOptions gossiper_options = DefaultGossiperOptions();
  MembershipOptions membership_options;

  static GossiperOptions DefaultGossiperOptions() {
    GossiperOptions o;
    o.fanout = 16;  // every live peer, every round: tests stay deterministic
    o.dead_probe_every = 2;
    o.rpc_timeout = absl::Seconds(5);
    o.seed = 1;
    o.repair.buckets_per_group = 300;
    o.repair.fetch_batch_keys = 5;
    o.repair.stream_timeout = absl::Seconds(30);
    return o;
  }

  // Adds and starts a node. It knows only itself until Introduce() or a join.
  TestNode& Add(const std::string& id, const std::string& role) {
    service_options.buckets_per_scan = 100;
    service_options.versions_per_message = 4;
    service_options.records_per_message = 3;
    service_options.record_bytes_per_message = 64;
    auto node = std::make_unique<TestNode>();
    node->id = id;
    node->role = role;
    node->env.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    Member self;
    self.id = id;
    self.role = role;
    self.region = "r";
    node->membership =
        std::make_unique<Membership>(self, std::vector<Member>{}, &clock_, membership_options);
    node->channels = std::make_unique<BridgedChannelFactory>("r", LatencyModel());
    Start(*node);
    node->membership->SetSelfAddress(node->address());
    TestNode& ref = *node;
    nodes_[id] = std::move(node);
    return ref;
  }

  // Tells every node about every other (what the cluster config's static list does).
  void Introduce() {
    for (auto& [a, node] : nodes_) {
      for (auto& [b, other] : nodes_) {
        if (a != b) node->membership->Merge({other->membership->Self()});
      }
    }
  }

  // Stops the node, runs `while_closed` on its file system (nullptr: nothing), replaces
  // the file system with an empty one if `wipe`, and starts it again on the same port.
  void Restart(TestNode& node, bool wipe,
               const std::function<void(leveldb::Env*)>& while_closed = nullptr) {
    Stop(node);
    if (while_closed) while_closed(node.env.get());
    if (wipe) node.env.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    Start(node);
  }

  static storage::StoreOptions StoreOptionsFor(const TestNode& node) {
    storage::StoreOptions o;
    o.path = "/db";
    o.env = node.env.get();
    o.node_id = node.id;
    o.inline_value_limit = 16;  // small, so values above it are chunked
    o.blob_chunk_bytes = 64;
    return o;
  }

 private:
  void Start(TestNode& node) {
    node.registry = std::make_unique<prometheus::Registry>();
    auto opened = storage::Store::Open(StoreOptionsFor(node), &clock_, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    node.store = std::move(*opened);
    replication::ReplicationServiceOptions ro;
    ro.heartbeat = absl::Milliseconds(200);
    ro.batch_entries = 7;
    ro.batch_bytes = 100;
    node.replication = std::make_unique<replication::ReplicationService>(
        node.store.get(), &node.replication_metrics, ro);
    node.gossip =
        std::make_unique<GossipService>(node.store.get(), node.membership.get(), service_options);
    grpc::ServerBuilder builder;
    const std::string address = node.port == 0 ? "127.0.0.1:0" : node.address();
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &node.port);
    builder.RegisterService(node.replication.get());
    builder.RegisterService(node.gossip.get());
    ConfigurePeerServer(ChannelOptions(), &builder);
    node.server = builder.BuildAndStart();
    ASSERT_NE(node.server, nullptr) << "cannot listen on " << address;
    node.gossiper = std::make_unique<Gossiper>(node.store.get(), node.membership.get(),
                                               node.channels.get(), &clock_, *node.registry,
                                               gossiper_options, &node.replication_metrics);
  }

  void Stop(TestNode& node) {
    node.gossiper.reset();
    if (node.server) node.server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    node.server.reset();
    node.gossip.reset();
    node.replication.reset();
    node.store.reset();
  }

  SimulatedClock clock_;
  std::map<std::string, std::unique_ptr<TestNode>> nodes_;
};

}  // namespace kv::gossip::testing

#endif  // KV_GOSSIP_TESTING_GOSSIP_CLUSTER_H_
