#ifndef KV_TESTS_INTEGRATION_NODE_FIXTURE_H_
#define KV_TESTS_INTEGRATION_NODE_FIXTURE_H_

// One node in the test process: in-memory LevelDB, simulated clock, its own metrics
// registry, reached over loopback TCP on an ephemeral port by the real SDK (client) and
// by a raw stub (to send what the SDK would refuse to).

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <functional>
#include <memory>
#include <random>
#include <string>

#include "client/client.h"
#include "common/clock.h"
#include "kv/v1/kv.grpc.pb.h"
#include "leveldb/env.h"
#include "leveldb/helpers/memenv.h"
#include "node/node.h"

namespace kv::testing {

inline const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

class NodeFixture : public ::testing::Test {
 protected:
  NodeFixture()
      : env_(leveldb::NewMemEnv(leveldb::Env::Default())),
        clock_(kStart),
        registry_(std::make_shared<prometheus::Registry>()) {
    StartNode();
  }

  void StartNode() {
    node::NodeOptions options;
    options.node_id = "test-node";
    options.listen_address = "127.0.0.1:0";
    options.data_dir = "/data";
    options.sweeper.interval = absl::ZeroDuration();  // tests step the sweeper
    if (configure_) configure_(options);
    node::NodeDeps deps;
    deps.clock = &clock_;
    deps.env = env_.get();
    deps.registry = registry_.get();
    auto created = node::Node::Create(options, deps);
    ASSERT_TRUE(created.ok()) << created.status();
    node_ = std::move(*created);
    // Real TCP on loopback: the in-process transport hides flow-control and write-
    // coalescing behaviour (a Get once hung over TCP yet passed in-process).
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(node_->address(), grpc::InsecureChannelCredentials(),
                                         args);
    ClientOptions client_options;
    client_options.retry.initial_backoff = absl::Milliseconds(1);
    client_ = std::make_unique<Client>(MakeGrpcConnectionForChannel(client_options, channel_));
    stub_ = kv::v1::KV::NewStub(channel_);
  }

  // Restarts the node on the same (in-memory) disk.
  void RestartNode() {
    client_.reset();
    stub_.reset();
    channel_.reset();
    node_.reset();
    registry_ = std::make_shared<prometheus::Registry>();
    StartNode();
  }

  std::string NewNamespace(const std::string& title = "test") {
    absl::StatusOr<Namespace> ns = client_->CreateNamespace(title);
    EXPECT_TRUE(ns.ok()) << ns.status();
    return ns.ok() ? ns->id : "";
  }

  std::string MetricsText() {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  }

  static std::string RandomBytes(size_t n, uint32_t seed) {
    std::string out(n, '\0');
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i + 8 <= n; i += 8) {
      const uint64_t v = rng();
      memcpy(&out[i], &v, 8);
    }
    for (size_t i = n - n % 8; i < n; ++i) out[i] = static_cast<char>(rng());
    return out;
  }

  // Applied to the node's options at each (re)start.
  std::function<void(node::NodeOptions&)> configure_;
  std::unique_ptr<leveldb::Env> env_;
  SimulatedClock clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<node::Node> node_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<kv::v1::KV::Stub> stub_;
};

}  // namespace kv::testing

#endif  // KV_TESTS_INTEGRATION_NODE_FIXTURE_H_
