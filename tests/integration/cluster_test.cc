// An origin and edges in one process: convergence, read-your-writes through an edge,
// restarts, an unreachable origin, and a clock set back.

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/testing/status_matchers.h"
#include "common/testing/metric_value.h"
#include "kv/replication/v1/replication.grpc.pb.h"
#include "kv/v1/kv.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace kv {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Optional;

class ClusterTest : public kv::testing::ClusterFixture {
 protected:
  void SetUp() override {
    Add("origin", node::Role::kOrigin, "eu");
    Add("edge-1", node::Role::kEdge, "eu");
    Add("edge-2", node::Role::kEdge, "us");
    Add("edge-3", node::Role::kEdge, "ap");
  }
};

TEST_F(ClusterTest, WritesAtTheOriginReachEveryEdge) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("sessions");
  ASSERT_THAT(ns, IsOk());
  for (int i = 0; i < 100; ++i) {
    ASSERT_THAT(client("origin").Put(ns->id, absl::StrCat("k", i), absl::StrCat("v", i)), IsOk());
  }
  ASSERT_THAT(client("origin").Delete(ns->id, "k5"), IsOk());
  ASSERT_TRUE(Converged());
  const auto expected = Dump("origin", ns->id);
  EXPECT_EQ(expected.size(), 99u);
  for (const char* edge : {"edge-1", "edge-2", "edge-3"}) {
    EXPECT_EQ(Dump(edge, ns->id), expected) << edge;
    EXPECT_EQ(store(edge).BucketHashSnapshot(), store("origin").BucketHashSnapshot()) << edge;
  }
}

TEST_F(ClusterTest, AWriterReadsItsOwnWriteAtTheEdgeItWroteThrough) {
  absl::StatusOr<Namespace> ns = client("edge-2").CreateNamespace("flags");
  ASSERT_THAT(ns, IsOk());
  // Each write is visible on the same edge the moment it is acknowledged.
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("flag", i);
    ASSERT_THAT(client("edge-2").Put(ns->id, key, "on"), IsOk());
    EXPECT_THAT(client("edge-2").Get(ns->id, key), IsOkAndHolds(Optional(std::string("on"))));
    ASSERT_THAT(client("edge-2").Delete(ns->id, key), IsOk());
    EXPECT_THAT(client("edge-2").Get(ns->id, key), IsOkAndHolds(Eq(std::nullopt)));
  }
  std::vector<BulkPutItem> items;
  for (int i = 0; i < 500; ++i) items.push_back({absl::StrCat("b", i), "x", {}});
  ASSERT_THAT(client("edge-3").BulkPut(ns->id, items), IsOk());
  EXPECT_THAT(client("edge-3").Get(ns->id, "b499"), IsOkAndHolds(Optional(std::string("x"))));
  ASSERT_THAT(client("edge-1").BulkDelete(ns->id, {"b1", "b2"}), IsOk());
  EXPECT_THAT(client("edge-1").Get(ns->id, "b1"), IsOkAndHolds(Eq(std::nullopt)));
  const std::string big(3 << 20, 'z');
  ASSERT_THAT(client("edge-1").Put(ns->id, "big", big), IsOk());
  EXPECT_THAT(client("edge-1").Get(ns->id, "big"), IsOkAndHolds(Optional(big)));
  ASSERT_THAT(client("edge-3").RenameNamespace(ns->id, "feature-flags"), IsOk());
  EXPECT_THAT(client("edge-3").ListNamespaces(),
              IsOkAndHolds(::testing::ElementsAre(Namespace{ns->id, "feature-flags"})));
  // Errors come back from the origin unchanged.
  EXPECT_THAT(client("edge-1").Put(ns->id, "k", "v", {.expiration_ttl = absl::Seconds(5)}),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of 5. Expiration TTL must be at least 60."));
  EXPECT_THAT(client("edge-1").CreateNamespace("feature-flags"),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_TRUE(Converged());
  EXPECT_EQ(Dump("edge-1", ns->id), Dump("edge-2", ns->id));
}

TEST_F(ClusterTest, AWriteAnsweredByAnEdgeCarriesTheSequenceItCommittedAt) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("seq");
  ASSERT_THAT(ns, IsOk());
  ASSERT_TRUE(Converged());
  auto stub = kv::v1::KV::NewStub(grpc::CreateChannel(node("edge-1").address(),
                                                      grpc::InsecureChannelCredentials()));
  auto put = [&](const std::string& key) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    kv::v1::PutResponse response;
    auto writer = stub->Put(&context, &response);
    kv::v1::PutRequest request;
    request.set_namespace_id(ns->id);
    request.set_key(key);
    request.set_value_size(1);
    request.set_value_chunk("v");
    writer->Write(request);
    writer->WritesDone();
    EXPECT_TRUE(writer->Finish().ok());
    return response.header();
  };
  // Writes through the origin run meanwhile, so the edge has often applied later ones by
  // the time it answers: the answer must name the write's own entry in the origin's log.
  std::atomic<bool> done{false};
  std::thread other([&] {
    for (int i = 0; !done.load(); ++i) {
      ASSERT_THAT(client("origin").Put(ns->id, absl::StrCat("other", i), "1"), IsOk());
    }
  });
  for (int i = 0; i < 50; ++i) {
    const std::string key = absl::StrCat("mine", i);
    kv::v1::ResponseHeader header = put(key);
    EXPECT_EQ(header.node_id(), "edge-1");
    auto entry = store("origin").ReadLog(header.applied_sequence(), 1, 1 << 20);
    ASSERT_THAT(entry, IsOk());
    ASSERT_EQ(entry->size(), 1u);
    EXPECT_EQ((*entry)[0].entry.key, key) << "sequence " << header.applied_sequence();
  }
  done = true;
  other.join();
}

TEST_F(ClusterTest, AnEdgeRestartedMidStreamResumesFromItsAppliedSequence) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  for (int i = 0; i < 200; ++i) ASSERT_THAT(client("origin").Put(ns->id, absl::StrCat("a", i), "1"), IsOk());
  ASSERT_TRUE(Converged());
  Stop("edge-2");
  for (int i = 0; i < 200; ++i) ASSERT_THAT(client("origin").Put(ns->id, absl::StrCat("b", i), "2"), IsOk());
  const uint64_t applied_before_restart = 201;  // the namespace + 200 puts
  Start("edge-2");
  EXPECT_GE(store("edge-2").AppliedSequence(), applied_before_restart);
  ASSERT_TRUE(Converged());
  EXPECT_EQ(Dump("edge-2", ns->id), Dump("origin", ns->id));
  // Everything after the restart came through the stream, nothing twice.
  EXPECT_EQ(store("edge-2").AppliedSequence(), store("origin").AppliedSequence());
}

TEST_F(ClusterTest, WithTheOriginDownWritesFailClearlyAndReadsKeepWorking) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  ASSERT_THAT(client("origin").Put(ns->id, "k", "v"), IsOk());
  ASSERT_TRUE(Converged());
  Stop("origin");
  EXPECT_THAT(client("edge-1").Put(ns->id, "k2", "v"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("origin unavailable")));
  EXPECT_THAT(client("edge-1").Delete(ns->id, "k"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("reads keep working")));
  EXPECT_THAT(client("edge-2").Get(ns->id, "k"), IsOkAndHolds(Optional(std::string("v"))));
  EXPECT_THAT(client("edge-3").List(ns->id), IsOk());
  Start("origin");
  // Forwarded writes fail fast (UNAVAILABLE) until the edge has reconnected, which its
  // channel does within its reconnect backoff (<= 1 s).
  ASSERT_TRUE(Eventually([&] { return client("edge-1").Put(ns->id, "k2", "v2").ok(); }));
  EXPECT_THAT(client("edge-1").Get(ns->id, "k2"), IsOkAndHolds(Optional(std::string("v2"))));
  ASSERT_TRUE(Converged());
}

TEST_F(ClusterTest, AnOriginRestartedWithItsClockSetBackStillWinsWithNewWrites) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  ASSERT_THAT(client("origin").Put(ns->id, "k", "old"), IsOk());
  ASSERT_TRUE(Converged());
  Stop("origin");
  clock_.Advance(-absl::Hours(3));  // the wall clock jumps back across the restart
  Start("origin");
  ASSERT_TRUE(Eventually([&] { return client("edge-1").Put(ns->id, "k", "new").ok(); }));
  ASSERT_TRUE(Converged());
  for (const char* id : {"origin", "edge-1", "edge-2", "edge-3"}) {
    EXPECT_THAT(client(id).Get(ns->id, "k"), IsOkAndHolds(Optional(std::string("new")))) << id;
  }
}

TEST_F(ClusterTest, AnEdgeCutFromTheOriginCatchesUpWhenTheLinkHeals) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  ASSERT_TRUE(Converged());
  links("edge-3").Cut("origin");
  for (int i = 0; i < 50; ++i) ASSERT_THAT(client("origin").Put(ns->id, absl::StrCat("k", i), "v"), IsOk());
  EXPECT_THAT(client("edge-3").Put(ns->id, "x", "y"), StatusIs(StatusCode::kUnavailable));
  links("edge-3").Heal("origin");
  ASSERT_TRUE(Converged());
  ASSERT_TRUE(Eventually([&] { return client("edge-3").Put(ns->id, "x", "y").ok(); }));
  EXPECT_THAT(client("edge-3").Get(ns->id, "x"), IsOkAndHolds(Optional(std::string("y"))));
  EXPECT_EQ(Dump("edge-3", ns->id), Dump("origin", ns->id));
}

class StreamPortTest : public kv::testing::ClusterFixture {};

TEST_F(StreamPortTest, TheOriginServesItsStreamOnTheConfiguredPortAndEdgesFollowIt) {
  const int port = kv::testing::PickFreePort();
  ASSERT_GT(port, 0);
  Add("origin", node::Role::kOrigin, "eu", port);
  EXPECT_EQ(node("origin").stream_port(), port);
  // What subscribers are told.
  {
    auto stub = replication::v1::Replication::NewStub(
        grpc::CreateChannel(node("origin").address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    replication::v1::StreamAddressResponse response;
    ASSERT_TRUE(stub->StreamAddress(&ctx, replication::v1::StreamAddressRequest(), &response).ok());
    EXPECT_EQ(response.port(), port);
  }
  Add("edge-1", node::Role::kEdge, "eu");
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  ASSERT_THAT(client("origin").Put(ns->id, "k", "v"), IsOk());
  ASSERT_TRUE(Converged());
  EXPECT_THAT(client("edge-1").Get(ns->id, "k"), IsOkAndHolds(Optional(std::string("v"))));
  // One stream, over TCP at the first try (3 failed connects would have meant gRPC).
  EXPECT_EQ(kv::testing::MetricValue(registry("edge-1"), "kv_replication_reconnects_total"), 1);

  // A second node told to serve its stream on the same port does not start, and says why.
  node::NodeOptions options = BaseOptions(Member{.id = "other", .role = node::Role::kOrigin});
  options.listen_address = "127.0.0.1:0";
  options.stream_port = port;
  std::unique_ptr<leveldb::Env> env(leveldb::NewMemEnv(leveldb::Env::Default()));
  BridgedChannelFactory channels("eu", LatencyModel());
  node::NodeDeps deps;
  deps.clock = &clock_;
  deps.env = env.get();
  deps.channels = &channels;
  EXPECT_THAT(
      node::Node::Create(options, deps).status(),
      StatusIs(StatusCode::kUnavailable,
               HasSubstr(absl::StrCat("replication stream: cannot listen on 127.0.0.1:", port))));
}

}  // namespace
}  // namespace kv

namespace kv {
namespace {

using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::testing::Eq;
using ::testing::Optional;

class ClusterGossipTest : public ClusterTest {};

TEST_F(ClusterGossipTest, AnEdgeCutFromTheOriginConvergesThroughItsPeers) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  ASSERT_TRUE(Converged());
  links("edge-3").Cut("origin");  // both its stream and its forwarded writes are cut
  for (int i = 0; i < 100; ++i) {
    ASSERT_THAT(client("origin").Put(ns->id, absl::StrCat("k", i), "v"), IsOk());
  }
  ASSERT_THAT(client("origin").Delete(ns->id, "k3"), IsOk());
  // Only gossip rounds can bring edge-3 the writes: from edge-1 or edge-2.
  ASSERT_TRUE(Eventually([&] {
    TickAll();
    return store("edge-3").AppliedSequence() == store("origin").AppliedSequence();
  }));
  EXPECT_EQ(Dump("edge-3", ns->id), Dump("origin", ns->id));
  EXPECT_THAT(client("edge-3").Get(ns->id, "k3"), IsOkAndHolds(Eq(std::nullopt)));
  links("edge-3").Heal("origin");
}

TEST_F(ClusterGossipTest, TombstonesAreCollectedOnlyOnceEveryMemberHasTheDelete) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  ASSERT_THAT(client("origin").Put(ns->id, "doomed", "v"), IsOk());
  ASSERT_TRUE(Converged());
  Stop("edge-2");  // it holds the live version and cannot learn of the delete
  ASSERT_THAT(client("origin").Delete(ns->id, "doomed"), IsOk());
  auto tombstones = [&](const std::string& id) {
    std::vector<storage::VersionInfo> versions;
    std::vector<std::pair<std::string, storage::NamespaceRecord>> namespaces;
    uint64_t seq;
    EXPECT_THAT(store(id).ScanVersions({}, &versions, &namespaces, &seq), IsOk());
    return std::count_if(versions.begin(), versions.end(),
                         [](const storage::VersionInfo& v) { return v.tombstone; });
  };
  for (int i = 0; i < 5; ++i) {
    TickAll();
    ASSERT_THAT(node("origin").sweeper()->RunOnce(), IsOk());
  }
  EXPECT_EQ(tombstones("origin"), 1);  // edge-2 still needs it: it is kept
  Start("edge-2");
  ASSERT_TRUE(Converged());
  EXPECT_THAT(client("edge-2").Get(ns->id, "doomed"), IsOkAndHolds(Eq(std::nullopt)));
  // Once every member reported the delete, it goes everywhere.
  ASSERT_TRUE(Eventually([&] {
    TickAll();
    for (const char* id : {"origin", "edge-1", "edge-2", "edge-3"}) {
      EXPECT_THAT(node(id).sweeper()->RunOnce(), IsOk());
    }
    return tombstones("origin") == 0 && tombstones("edge-2") == 0;
  }));
  for (const char* id : {"origin", "edge-1", "edge-2", "edge-3"}) {
    EXPECT_THAT(client(id).Get(ns->id, "doomed"), IsOkAndHolds(Eq(std::nullopt))) << id;
  }
}

TEST_F(ClusterGossipTest, ANewEdgeJoinsThroughOneSeedAndServesEverything) {
  absl::StatusOr<Namespace> ns = client("origin").CreateNamespace("t");
  ASSERT_THAT(ns, IsOk());
  for (int i = 0; i < 50; ++i) ASSERT_THAT(client("edge-1").Put(ns->id, absl::StrCat("k", i), "v"), IsOk());
  AddJoining("edge-new", "edge-2", "us");
  ASSERT_TRUE(Converged());
  EXPECT_EQ(Dump("edge-new", ns->id), Dump("origin", ns->id));
  ASSERT_THAT(client("edge-new").Put(ns->id, "from-new", "hi"), IsOk());
  EXPECT_THAT(client("edge-new").Get(ns->id, "from-new"), IsOkAndHolds(Optional(std::string("hi"))));
  // The others learn of it by gossip.
  ASSERT_TRUE(Eventually([&] {
    TickAll();
    return node("edge-3").membership()->Find("edge-new").has_value() &&
           node("origin").membership()->Find("edge-new").has_value();
  }));
}

}  // namespace
}  // namespace kv
