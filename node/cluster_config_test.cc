#include "node/cluster_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "common/testing/status_matchers.h"

namespace kv::node {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ClusterConfigTest, ParsesNodes) {
  auto config = ClusterConfig::Parse(R"(
cluster: test
nodes:
  - id: origin
    role: origin
    region: eu-west
    grpc: 127.0.0.1:7400
    metrics: 127.0.0.1:9400
    resp: 127.0.0.1:6400
    stream_port: 7450
    data_dir: data/origin
  - id: edge-1
    role: edge
    grpc: 127.0.0.1:7401
)");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->name, "test");
  ASSERT_EQ(config->nodes.size(), 2u);
  const NodeConfig* edge = config->Find("edge-1");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->role, Role::kEdge);
  EXPECT_EQ(edge->data_dir, "edge-1");  // defaults to the id
  EXPECT_EQ(config->Find("origin")->metrics_address, "127.0.0.1:9400");
  EXPECT_EQ(config->Find("origin")->stream_port, 7450);
  EXPECT_EQ(edge->stream_port, 0);  // any free port
  EXPECT_EQ(config->Find("origin")->resp_address, "127.0.0.1:6400");
  EXPECT_EQ(edge->resp_address, "");  // no RESP port
  EXPECT_EQ(config->Find("nope"), nullptr);
}

TEST(ClusterConfigTest, RejectsBadConfigsWithClearMessages) {
  EXPECT_THAT(ClusterConfig::Parse("nodes: ["), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ClusterConfig::Parse("nodes: []"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("non-empty list")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: boss, grpc: 'x:1'}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("role \"boss\"")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("\"grpc\"")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: edge, grpc: 'x:1'}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one origin")));
  EXPECT_THAT(ClusterConfig::Parse(
                  "nodes: [{id: a, role: origin, grpc: 'x:1'}, {id: a, role: edge, grpc: 'x:2'}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("duplicate id")));
  EXPECT_THAT(ClusterConfig::Parse(
                  "nodes: [{id: a, role: origin, grpc: 'x:1'}, {id: b, role: edge, grpc: 'x:1'}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("used twice")));
  EXPECT_THAT(
      ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1', stream_port: 70000}]"),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("stream_port must be a port number between 0 and 65535, not \"70000\"")));
  EXPECT_THAT(
      ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1', stream_port: seven}]"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("not \"seven\"")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1', stream_port: 1}]"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("x:1 is used twice (stream_port on the grpc host)")));
  // The stream's port collides with another node's gRPC address on the same host.
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1', stream_port: 2},"
                                   " {id: b, role: edge, grpc: 'x:2'}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("x:2 is used twice")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1', resp: 'x:9'},"
                                   " {id: b, role: edge, grpc: 'x:2', metrics: 'x:9'}]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("x:9 is used twice")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1', region: {a: 1}}]"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ClusterConfig::Load("/nonexistent/config.yaml"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1'}]\n"
                                   "replication: {min_batch_interval_ms: 1001}"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("min_batch_interval_ms")));
  EXPECT_THAT(ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1'}]\n"
                                   "replication: {stream_transport: udp}"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("tcp or grpc, not \"udp\"")));
}

TEST(ClusterConfigTest, ReplicationSettingsDefaultAndParse) {
  absl::StatusOr<ClusterConfig> plain =
      ClusterConfig::Parse("nodes: [{id: a, role: origin, grpc: 'x:1'}]");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->replication.min_batch_interval, absl::ZeroDuration());
  EXPECT_TRUE(plain->replication.stream_over_tcp);
  absl::StatusOr<ClusterConfig> tuned = ClusterConfig::Parse(
      "nodes: [{id: a, role: origin, grpc: 'x:1'}]\n"
      "replication: {min_batch_interval_ms: 3, heartbeat_ms: 500, gossip_interval_ms: 250,\n"
      "              stream_transport: grpc}");
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->replication.min_batch_interval, absl::Milliseconds(3));
  EXPECT_EQ(tuned->replication.heartbeat, absl::Milliseconds(500));
  EXPECT_EQ(tuned->replication.gossip_interval, absl::Milliseconds(250));
  EXPECT_FALSE(tuned->replication.stream_over_tcp);
}

// Every file shipped in cluster-configs/ loads, and its origin's stream port is fixed.
TEST(ClusterConfigTest, ShippedConfigsLoad) {
  const char* source_dir = std::getenv("KV_SOURCE_DIR");  // set by ctest
  const std::filesystem::path dir =
      std::filesystem::path(source_dir != nullptr ? source_dir : ".") / "cluster-configs";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir << " (run from the repository root)";
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    absl::StatusOr<ClusterConfig> config = ClusterConfig::Load(entry.path().string());
    ASSERT_THAT(config, IsOk()) << entry.path();
    EXPECT_NE(config->origin().stream_port, 0) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 3);
}

}  // namespace
}  // namespace kv::node
