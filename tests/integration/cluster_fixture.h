#ifndef KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

// An origin and several edges in one test process: each node has its own in-memory disk,
// metrics registry and BridgedChannelFactory (so a test can cut any node's link to any
// peer), serves on 127.0.0.1:<ephemeral>, and is reached by the real SDK. Nodes can be
// stopped and restarted on the same disk and port.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/channel_factory.h"
#include "common/clock.h"
#include "common/testing/free_port.h"
#include "leveldb/env.h"
#include "leveldb/helpers/memenv.h"
#include "node/node.h"

namespace kv::testing {

class ClusterFixture : public ::testing::Test {
 protected:
  struct Member {
    std::string id;
    std::string region;
    node::Role role;
    std::unique_ptr<leveldb::Env> env;
    std::unique_ptr<BridgedChannelFactory> channels;
    std::shared_ptr<prometheus::Registry> registry;
    std::unique_ptr<node::Node> node;
    int port = 0;
    int stream_port = 0;  // NodeOptions::stream_port
    std::unique_ptr<Client> client;
  };

  ClusterFixture() : clock_(absl::Now()) {}
  ~ClusterFixture() override {
    // Edges first, so none is left streaming from a stopped origin.
    for (auto& [id, m] : members_) {
      if (m.role == node::Role::kEdge) Stop(id);
    }
    for (auto& [id, m] : members_) Stop(id);
  }

  // Adds and starts a node; the first added must be the origin.
  void Add(const std::string& id, node::Role role, const std::string& region = "r1",
           int stream_port = 0) {
    Member& m = members_[id];
    m.id = id;
    m.region = region;
    m.role = role;
    m.stream_port = stream_port;
    m.env.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    Start(id);
  }

  void Start(const std::string& id) {
    Member& m = members_.at(id);
    node::NodeOptions options = BaseOptions(m);
    if (m.role == node::Role::kEdge) options.origin = Address(origin_id_);
    for (const auto& [other_id, other] : members_) {
      if (other.port == 0 || other_id == id) continue;
      gossip::Member peer;
      peer.id = other_id;
      peer.role = other.role == node::Role::kOrigin ? gossip::kRoleOrigin : gossip::kRoleEdge;
      peer.region = other.region;
      peer.address = absl::StrCat("127.0.0.1:", other.port);
      options.members.push_back(peer);
    }
    Create(m, options);
    if (m.role == node::Role::kOrigin) origin_id_ = id;
  }

  // Adds an edge that knows only `seed` (no static members, no origin address) and
  // joins the cluster through it.
  void AddJoining(const std::string& id, const std::string& seed, const std::string& region) {
    Member& m = members_[id];
    m.id = id;
    m.region = region;
    m.role = node::Role::kEdge;
    m.env.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    m.port = PickFreePort();  // a joining node announces its address, so it must be fixed
    node::NodeOptions options = BaseOptions(m);
    options.join_seed = Address(seed).address;
    Create(m, options);
  }

  // Options every test node shares: background work off (tests step it), fast
  // heartbeats, short shutdown.
  static node::NodeOptions BaseOptions(const Member& m) {
    node::NodeOptions options;
    options.node_id = m.id;
    options.role = m.role;
    options.region = m.region;
    options.listen_address = absl::StrCat("127.0.0.1:", m.port);
    options.stream_port = m.stream_port;
    options.data_dir = "/data";
    options.sweeper.interval = absl::ZeroDuration();
    options.gossip_interval = absl::ZeroDuration();
    options.replication.heartbeat = absl::Milliseconds(200);
    options.shutdown_grace = absl::Seconds(2);
    return options;
  }

  // Creates `m`'s node on its own disk, registry and links, and a client to it.
  void Create(Member& m, const node::NodeOptions& options) {
    m.channels = std::make_unique<BridgedChannelFactory>(m.region, LatencyModel());
    m.registry = std::make_shared<prometheus::Registry>();
    node::NodeDeps deps;
    deps.clock = &clock_;
    deps.env = m.env.get();
    deps.registry = m.registry.get();
    deps.channels = m.channels.get();
    auto created = node::Node::Create(options, deps);
    ASSERT_TRUE(created.ok()) << created.status();
    m.node = std::move(*created);
    m.port = m.node->port();
    ClientOptions client;
    client.endpoint = m.node->address();
    client.timeout = absl::Seconds(30);
    client.retry.max_attempts = 1;
    m.client = std::make_unique<Client>(Client::Connect(client));
  }

  void Stop(const std::string& id) {
    Member& m = members_.at(id);
    m.client.reset();
    m.node.reset();
    m.channels.reset();
  }

  PeerAddress Address(const std::string& id) {
    const Member& m = members_.at(id);
    return PeerAddress{m.id, m.region, absl::StrCat("127.0.0.1:", m.port)};
  }

  Client& client(const std::string& id) { return *members_.at(id).client; }
  storage::Store& store(const std::string& id) { return *members_.at(id).node->store(); }
  BridgedChannelFactory& links(const std::string& id) { return *members_.at(id).channels; }
  node::Node& node(const std::string& id) { return *members_.at(id).node; }
  prometheus::Registry& registry(const std::string& id) { return *members_.at(id).registry; }

  // Runs one anti-entropy round on every running node.
  void TickAll() {
    for (auto& [id, m] : members_) {
      if (m.node) (void)m.node->gossiper()->Tick();
    }
  }

  // Waits (up to 60 s) until `condition` holds.
  static bool Eventually(const std::function<bool()>& condition) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!condition()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  // Waits until every running node has applied what the origin has.
  bool Converged() {
    return Eventually([&] {
      const uint64_t head = store(origin_id_).AppliedSequence();
      for (auto& [id, m] : members_) {
        if (m.node && m.node->store()->AppliedSequence() != head) return false;
      }
      return true;
    });
  }

  // Every live key of `ns` on `id`, with its value, via the SDK.
  std::map<std::string, std::string> Dump(const std::string& id, const std::string& ns) {
    std::map<std::string, std::string> out;
    ListOptions options;
    while (true) {
      absl::StatusOr<ListResult> page = client(id).List(ns, options);
      if (!page.ok()) return {{"<error>", page.status().ToString()}};
      for (const ListedKey& k : page->keys) {
        auto v = client(id).Get(ns, k.name);
        out[k.name] = v.ok() && v->has_value() ? **v : "<missing>";
      }
      if (page->list_complete) return out;
      options.cursor = page->cursor;
    }
  }

  SimulatedClock clock_;
  std::string origin_id_;
  std::map<std::string, Member> members_;
};

}  // namespace kv::testing

#endif  // KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
