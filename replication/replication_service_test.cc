// The replication stream and the follower between two stores in one process, over each
// transport: gRPC Subscribe and the plain TCP stream, read on the follower's thread or
// on an input loop's (as an edge with a RESP port does).

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "common/channel_factory.h"
#include "common/socket.h"
#include "common/testing/poll_input_loop.h"
#include "common/testing/status_matchers.h"
#include "leveldb/helpers/memenv.h"
#include "replication/follower.h"
#include "replication/log_applier.h"
#include "replication/log_cursor.h"
#include "replication/replication_service.h"
#include "storage/testing/store_fixture.h"

namespace kv::replication {
namespace {

using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::testing::Optional;

const std::string kNs = "000000000000000000000000000000bb";

struct Transport {
  StreamTransport transport;
  bool on_loop;  // the follower reads its TCP stream on an input loop
  const char* name;
};

class ReplicationServiceTest : public storage::testing::StoreFixture,
                               public ::testing::WithParamInterface<Transport> {
 protected:
  ReplicationServiceTest() : replica_env_(leveldb::NewMemEnv(leveldb::Env::Default())) {
    StartServer();
    OpenReplica();
    channels_ = MakeTcpChannelFactory();
  }
  ~ReplicationServiceTest() override {
    follower_.reset();
    if (server_) server_->Shutdown();
  }

  void StartServer() {
    ReplicationServiceOptions options;
    options.heartbeat = absl::Milliseconds(100);
    StartServer(options);
  }

  void StartServer(ReplicationServiceOptions options, bool serve_tcp = true) {
    follower_.reset();
    if (server_) server_->Shutdown();
    server_.reset();
    service_ = std::make_unique<ReplicationService>(store_.get(), &metrics_, options);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    if (!serve_tcp) return;
    ASSERT_THAT(service_->ServeTcp("127.0.0.1", 0), IsOk());
    ASSERT_GT(service_->tcp_port(), 0);
  }

  void OpenReplica() {
    follower_.reset();
    replica_.reset();
    storage::StoreOptions o = Options();
    o.env = replica_env_.get();
    o.node_id = "edge";
    auto opened = storage::Store::Open(o, &clock_, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    replica_ = std::move(*opened);
  }

  void StartFollower(absl::Duration silence_timeout = absl::Seconds(5)) {
    FollowerOptions options;
    options.node_id = "edge";
    options.silence_timeout = silence_timeout;
    options.transport = GetParam().transport;
    if (GetParam().on_loop) options.input_loop = &loop_;
    options.initial_backoff = absl::Milliseconds(10);
    follower_ = std::make_unique<Follower>(
        replica_.get(), channels_.get(),
        PeerAddress{"origin", "r", "127.0.0.1:" + std::to_string(port_)}, &clock_, &metrics_,
        options);
    follower_->set_on_needs_repair([this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      repair_requests_.push_back(s);
    });
    follower_->Start();
  }

  // Waits (generously) until the follower has handed its stream to the loop `n` times.
  bool WatchesReach(int n) {
    for (int i = 0; i < 3000 && loop_.watches() < n; ++i) absl::SleepFor(absl::Milliseconds(10));
    return loop_.watches() >= n;
  }

  // Waits (generously) until the replica has applied everything the origin has.
  bool CaughtUp() {
    for (int i = 0; i < 3000; ++i) {
      if (replica_->AppliedSequence() == store_->AppliedSequence()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  std::optional<std::string> ReplicaValue(const std::string& key) {
    auto got = replica_->Get(kNs, key, clock_.Now());
    if (!got.ok() || !got->has_value()) return std::nullopt;
    storage::StoredValue& v = **got;
    if (!v.blob) return v.inline_value;
    std::string out;
    for (uint32_t i = 0; i < v.blob->ref().chunk_count(); ++i) out += *v.blob->ReadChunk(i);
    return out;
  }

  // A write, a follower, and the replica catches up without a TCP stream.
  void ExpectFollowedOverGrpc() {
    MakeNamespace("t", kNs);
    ASSERT_THAT(Put(kNs, "k", "v"), IsOk());
    StartFollower();
    ASSERT_TRUE(CaughtUp());
    EXPECT_THAT(ReplicaValue("k"), Optional(std::string("v")));
    EXPECT_EQ(service_->tcp_streams_opened(), 0);
  }

  ReplicationMetrics metrics_;
  std::unique_ptr<leveldb::Env> replica_env_;
  std::unique_ptr<storage::Store> replica_;
  std::unique_ptr<ReplicationService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<ChannelFactory> channels_;
  kv::testing::PollInputLoop loop_;  // outlives the follower
  std::unique_ptr<Follower> follower_;
  absl::Mutex mu_;
  std::vector<absl::Status> repair_requests_ ABSL_GUARDED_BY(mu_);
};

TEST_P(ReplicationServiceTest, AFollowerReplicatesWritesAsTheyCommit) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "before", "1"), IsOk());
  StartFollower();
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("before"), Optional(std::string("1")));
  EXPECT_EQ(replica_->Epoch(), store_->Epoch());  // a fresh replica adopts the lineage
  for (int i = 0; i < 200; ++i) ASSERT_THAT(Put(kNs, "k" + std::to_string(i), "v"), IsOk());
  ASSERT_THAT(Delete(kNs, "k7"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("k199"), Optional(std::string("v")));
  EXPECT_EQ(ReplicaValue("k7"), std::nullopt);
  EXPECT_EQ(replica_->BucketHashSnapshot(), store_->BucketHashSnapshot());
  EXPECT_TRUE(follower_->connected());
  // It went over the transport asked for.
  EXPECT_EQ(service_->tcp_streams_opened() > 0, GetParam().transport == StreamTransport::kTcp);
  // And on the loop if it has one: its watch is open.
  EXPECT_EQ(loop_.watches(), GetParam().on_loop ? 1 : 0);
  EXPECT_EQ(loop_.ended(), 0);
}

TEST_P(ReplicationServiceTest, AnOriginServingNoTcpStreamIsFollowedOverGrpc) {
  ReplicationServiceOptions options;
  options.heartbeat = absl::Milliseconds(100);
  StartServer(options, /*serve_tcp=*/false);
  ExpectFollowedOverGrpc();
}

TEST_P(ReplicationServiceTest, StoppingTheServiceEndsOpenStreamsAndTheFollowerReconnects) {
  MakeNamespace("t", kNs);
  StartFollower();
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  service_->Stop();  // ends the stream; the follower retries with backoff
  for (int i = 0; i < 3000 && follower_->connected(); ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_FALSE(follower_->connected());
  // A new server (another port) for the same store: the follower of the old address
  // cannot reach it, so restart both, as a node restart does.
  StartServer();
  StartFollower();
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("b"), Optional(std::string("2")));
}

TEST_P(ReplicationServiceTest, CommitsSoonAfterABatchWaitForTheIntervalOrAFullBatch) {
  ReplicationServiceOptions options;
  // Long enough that a loaded machine cannot let it pass unnoticed; below the follower's
  // 5 s silence timeout, as the heartbeat must be.
  options.heartbeat = absl::Milliseconds(4500);
  options.min_batch_interval = absl::Seconds(4);
  options.batch_entries = 50;
  StartServer(options);
  MakeNamespace("t", kNs);
  StartFollower();
  ASSERT_TRUE(CaughtUp());  // the stream's first batch goes at once
  // Right after a batch: one write waits for the rest of the interval...
  ASSERT_THAT(Put(kNs, "lone", "1"), IsOk());
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(ReplicaValue("lone"), std::nullopt);
  // ...unless a full batch (50 entries) accumulates first: then all of it goes at once.
  for (int i = 1; i < 50; ++i) ASSERT_THAT(Put(kNs, "k" + std::to_string(i), "v"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("lone"), Optional(std::string("1")));
}

TEST_P(ReplicationServiceTest, ChunkedValuesStreamInContinuations) {
  MakeNamespace("t", kNs);
  StartFollower();
  std::string big(1000, '\0');  // 16 chunks of 64 bytes in this fixture
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  std::unique_ptr<storage::ValueBuilder> b = store_->NewValueBuilder();
  absl::Notification written;
  if (!b->Append(big, [&](absl::Status) { written.Notify(); })) written.WaitForNotification();
  absl::Notification finished;
  storage::ValueRef ref;
  b->Finish([&](absl::StatusOr<storage::ValueRef> r) {
    ref = std::move(*r);
    finished.Notify();
  });
  finished.WaitForNotification();
  storage::PutValue put{kNs, "big", "", ref.blob, 0, "{\"m\":1}"};
  ASSERT_THAT(store_->CommitAndWait({storage::Mutation{std::move(put)}}).FirstError(), IsOk());
  ASSERT_THAT(Put(kNs, "after", "x"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("big"), Optional(big));
  EXPECT_THAT(ReplicaValue("after"), Optional(std::string("x")));
}

TEST_P(ReplicationServiceTest, ARestartedReplicaResumesFromItsAppliedSequence) {
  MakeNamespace("t", kNs);
  StartFollower();
  for (int i = 0; i < 50; ++i) ASSERT_THAT(Put(kNs, "a" + std::to_string(i), "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  const uint64_t before = replica_->AppliedSequence();
  OpenReplica();  // stops the follower, reopens the replica's store
  EXPECT_EQ(replica_->AppliedSequence(), before);
  for (int i = 0; i < 50; ++i) ASSERT_THAT(Put(kNs, "b" + std::to_string(i), "2"), IsOk());
  StartFollower();
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("b49"), Optional(std::string("2")));
  EXPECT_EQ(replica_->BucketHashSnapshot(), store_->BucketHashSnapshot());
}

TEST_P(ReplicationServiceTest, AReplicaBehindTheRetainedLogAsksForRepair) {
  MakeNamespace("t", kNs);
  for (int i = 0; i < 20; ++i) ASSERT_THAT(Put(kNs, "k" + std::to_string(i), "v"), IsOk());
  ASSERT_THAT(store_->TrimLog(10, 100), ::kv::testing::IsOkAndHolds(9));
  StartFollower();
  bool asked = false;
  for (int i = 0; i < 3000 && !asked; ++i) {
    {
      absl::MutexLock lock(&mu_);
      asked = !repair_requests_.empty();
    }
    if (!asked) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(asked);
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(repair_requests_[0].code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(replica_->AppliedSequence(), 0u);
}

// Dials peers directly but routes their TCP streams to a port nobody listens on, as a
// firewall in front of the stream port would.
class UnreachableStreams final : public ChannelFactory {
 public:
  UnreachableStreams() : inner_(MakeTcpChannelFactory()) {
    absl::StatusOr<Socket> closed = ListenTcp("127.0.0.1", 0, &closed_port_);
    EXPECT_TRUE(closed.ok());
  }  // the listener closes here: connecting to closed_port_ is refused
  std::shared_ptr<grpc::Channel> Dial(const PeerAddress& peer) override {
    return inner_->Dial(peer);
  }
  absl::StatusOr<std::string> RouteStream(const PeerAddress&, const std::string&) override {
    return absl::StrCat("127.0.0.1:", closed_port_);
  }

 private:
  std::unique_ptr<ChannelFactory> inner_;
  int closed_port_ = 0;
};

TEST_P(ReplicationServiceTest, AStreamPortThatCannotBeReachedFallsBackToGrpc) {
  channels_ = std::make_unique<UnreachableStreams>();
  ExpectFollowedOverGrpc();
}

TEST_P(ReplicationServiceTest, StopIsPromptWhileTheOriginDoesNotAnswer) {
  auto bridged = std::make_unique<BridgedChannelFactory>("r", LatencyModel());
  BridgedChannelFactory* links = bridged.get();
  links->Blackhole("origin", true);  // connections open, but no byte gets through
  channels_ = std::move(bridged);
  StartFollower();
  // Wait until it is inside its first call to the origin.
  for (int i = 0; i < 1000; ++i) {
    std::optional<LinkBridgeStats> stats = links->Stats("origin");
    if (stats && stats->connections_accepted > 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_THAT(links->Stats("origin"), ::testing::Optional(::testing::Field(
                                          &LinkBridgeStats::connections_accepted, ::testing::Gt(0u))));
  const absl::Time start = absl::Now();
  follower_->Stop();
  // Without cancelling, it would wait out its 5 s deadlines (asking, connecting).
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(replica_->AppliedSequence(), 0u);
  follower_.reset();
  channels_.reset();  // resets the held connections, so the server shuts down at once
}

TEST_P(ReplicationServiceTest, BatchesCarryTheirHorizonAndTheReplicaRecordsNoPointBelowIt) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_THAT(Put(kNs, "a", "2"), IsOk());  // entry 2 now ships this version
  ASSERT_THAT(Put(kNs, "b", "1"), IsOk());
  ReplicationServiceOptions options;
  options.batch_entries = 2;
  LogCursor cursor(store_.get(), nullptr, options, 1);
  LogApplier applier(replica_.get(), storage::Sequencing::kReplicated, &clock_, nullptr,
                     /*from_origin=*/true);
  v1::LogBatch batch;
  ASSERT_THAT(cursor.Fill(&batch), IsOkAndHolds(true));
  ASSERT_EQ(batch.entries_size(), 2);
  EXPECT_EQ(batch.horizon(), 4u);
  ASSERT_THAT(applier.Apply(batch), IsOk());
  ASSERT_EQ(replica_->AppliedSequence(), 2u);
  EXPECT_EQ(replica_->FingerprintAt(2), std::nullopt);  // it holds entry 3's version of a
  ASSERT_THAT(cursor.Fill(&batch), IsOkAndHolds(true));
  ASSERT_THAT(applier.Apply(batch), IsOk());
  ASSERT_EQ(replica_->AppliedSequence(), 4u);
  ASSERT_TRUE(replica_->FingerprintAt(4).has_value());
  EXPECT_EQ(replica_->FingerprintAt(4), store_->FingerprintAt(4));
}

// Stop() ends a stream that is open and well (the origin heartbeats every 100 ms) at
// once, wherever it is read, not when the silence timeout would.
TEST_P(ReplicationServiceTest, StopEndsAHealthyStreamPromptly) {
  MakeNamespace("t", kNs);
  StartFollower(/*silence_timeout=*/absl::Minutes(5));
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  ASSERT_TRUE(follower_->connected());
  const absl::Time before = absl::Now();
  follower_->Stop();
  EXPECT_LT(absl::Now() - before, absl::Minutes(1));
  EXPECT_EQ(loop_.ended(), GetParam().on_loop ? 1 : 0);  // its watch ended too
}

// An origin that goes silent with the connection open (no heartbeat, as behind a
// blackholed link): the follower cuts the stream after its silence timeout and
// reconnects, wherever the stream is read.
TEST_P(ReplicationServiceTest, ASilentStreamIsCutAndReconnected) {
  if (GetParam().transport != StreamTransport::kTcp) GTEST_SKIP() << "the TCP stream only";
  ReplicationServiceOptions options;
  options.heartbeat = absl::Hours(1);
  StartServer(options);
  MakeNamespace("t", kNs);
  StartFollower(/*silence_timeout=*/absl::Milliseconds(300));
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  for (int i = 0; i < 3000 && service_->tcp_streams_opened() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(service_->tcp_streams_opened(), 2);
  if (GetParam().on_loop) EXPECT_GE(loop_.ended(), 1);  // the loop's watch was cut
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("b"), Optional(std::string("2")));
}

// The input loop stops before the follower (a node stops its RESP port first): the
// follower goes on reading on its own thread.
TEST_P(ReplicationServiceTest, AFollowerWhoseInputLoopStopsReadsOnItsOwnThread) {
  if (!GetParam().on_loop) GTEST_SKIP() << "only a follower on an input loop";
  MakeNamespace("t", kNs);
  StartFollower();
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_EQ(loop_.ended(), 0);
  loop_.Stop();
  EXPECT_EQ(loop_.ended(), 1);  // the watch ended with the loop
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("b"), Optional(std::string("2")));
  EXPECT_TRUE(follower_->connected());
  EXPECT_EQ(service_->tcp_streams_opened(), 1);  // the same stream, read on
}

// An edge that falls far behind while its loop serves the stream (a backlog larger than
// a batch lands at once) catches up on its own thread, then hands the stream back.
TEST_P(ReplicationServiceTest, ABacklogIsReadOnTheFollowerThreadAndTheLoopTakesOverAgain) {
  if (!GetParam().on_loop) GTEST_SKIP() << "only a follower on an input loop";
  MakeNamespace("t", kNs);
  StartFollower();
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  ASSERT_TRUE(WatchesReach(1));  // handed over just after the entry it caught up with
  std::vector<storage::Mutation> backlog;
  for (int i = 0; i < 3000; ++i) {
    backlog.push_back(storage::Mutation{
        storage::PutValue{kNs, "b" + std::to_string(i), "v", std::nullopt, 0, std::nullopt}});
  }
  ASSERT_THAT(store_->CommitAndWait(std::move(backlog)).FirstError(), IsOk());
  ASSERT_TRUE(CaughtUp());
  EXPECT_THAT(ReplicaValue("b2999"), Optional(std::string("v")));
  ASSERT_THAT(Put(kNs, "c", "1"), IsOk());
  ASSERT_TRUE(CaughtUp());
  // Handed back (the first watch ended) and taken over again (a second one).
  EXPECT_TRUE(WatchesReach(2));
  EXPECT_EQ(loop_.ended(), 1);
  EXPECT_EQ(loop_.watches(), 2);
  EXPECT_EQ(service_->tcp_streams_opened(), 1);
  EXPECT_EQ(replica_->BucketHashSnapshot(), store_->BucketHashSnapshot());
}

INSTANTIATE_TEST_SUITE_P(
    Transports, ReplicationServiceTest,
    ::testing::Values(Transport{StreamTransport::kTcp, false, "Tcp"},
                      Transport{StreamTransport::kTcp, true, "TcpOnInputLoop"},
                      Transport{StreamTransport::kGrpc, false, "Grpc"}),
    [](const ::testing::TestParamInfo<Transport>& info) { return info.param.name; });

}  // namespace
}  // namespace kv::replication
