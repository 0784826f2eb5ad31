#include "common/channel_factory.h"

#include <gmock/gmock.h>
#include <grpc/grpc.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/socket.h"
#include "common/testing/status_matchers.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace kv {
namespace {

using ::kv::testing::IsOk;
using ::testing::AnyOf;
using ::testing::Optional;

constexpr absl::Duration kPatience = absl::Seconds(20);

// A gRPC server answering the standard health service, set up as a peer server.
class HealthServer {
 public:
  explicit HealthServer(const ChannelOptions& options = {}) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&generic_);  // a server needs a service of its own
    ConfigurePeerServer(options, &builder);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
  }
  ~HealthServer() {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int port_ = 0;
  grpc::CallbackGenericService generic_;
  std::unique_ptr<grpc::Server> server_;
};

grpc::Status Check(const std::shared_ptr<grpc::Channel>& channel,
                   absl::Duration timeout = kPatience, bool wait_for_ready = true) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.set_wait_for_ready(wait_for_ready);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&ctx, request, &response);
}

// Returns the integer channel args of `args` by name.
std::map<std::string, int> IntArgs(const grpc::ChannelArguments& args) {
  std::map<std::string, int> out;
  grpc_channel_args c = args.c_channel_args();
  for (size_t i = 0; i < c.num_args; ++i) {
    if (c.args[i].type == GRPC_ARG_INTEGER) out[c.args[i].key] = c.args[i].value.integer;
  }
  return out;
}

LatencyModel ExampleModel() {
  absl::StatusOr<LatencyModel> model = LatencyModel::FromYaml(YAML::Load(R"(
enabled: true
intra_region_ms: 2
default_ms: 80
regions:
  - [eu-west, us-east, 40]
  - [eu-west, ap-south, 75]
)"));
  EXPECT_THAT(model, IsOk());
  return model.ok() ? *model : LatencyModel();
}

TEST(ChannelOptionsTest, SetsTheInterNodeArguments) {
  std::map<std::string, int> args = IntArgs(ChannelOptions().ToChannelArguments());
  EXPECT_EQ(args[GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH], -1);
  EXPECT_EQ(args[GRPC_ARG_MAX_SEND_MESSAGE_LENGTH], -1);
  EXPECT_EQ(args[GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS], 100);
  EXPECT_EQ(args[GRPC_ARG_MAX_RECONNECT_BACKOFF_MS], 1000);
  EXPECT_EQ(args[GRPC_ARG_KEEPALIVE_TIME_MS], 10000);
  EXPECT_EQ(args[GRPC_ARG_KEEPALIVE_TIMEOUT_MS], 5000);
  EXPECT_EQ(args[GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS], 1);
  EXPECT_EQ(args[GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA], 0);
  EXPECT_EQ(args[GRPC_ARG_ENABLE_HTTP_PROXY], 0);
  EXPECT_EQ(args[GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL], 1);
}

TEST(TcpChannelFactoryTest, DialCachesPerPeerId) {
  HealthServer server;
  std::unique_ptr<ChannelFactory> factory = MakeTcpChannelFactory();
  const PeerAddress a{"a", "eu-west", server.address()};
  const PeerAddress b{"b", "eu-west", server.address()};
  std::shared_ptr<grpc::Channel> first = factory->Dial(a);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(factory->Dial(a), first);
  EXPECT_NE(factory->Dial(b), first);
  grpc::Status status = Check(first);
  EXPECT_TRUE(status.ok()) << status.error_message();
  // A peer that moved gets a new channel.
  HealthServer moved;
  std::shared_ptr<grpc::Channel> second = factory->Dial({"a", "eu-west", moved.address()});
  EXPECT_NE(second, first);
  EXPECT_EQ(factory->Dial({"a", "eu-west", moved.address()}), second);
  EXPECT_TRUE(Check(second).ok());
}

TEST(BridgedChannelFactoryTest, DialCachesPerPeerIdAndGoesThroughABridge) {
  HealthServer server;
  BridgedChannelFactory factory("eu-west", ExampleModel());
  const PeerAddress a{"a", "us-east", server.address()};
  EXPECT_FALSE(factory.Stats("a").has_value());
  std::shared_ptr<grpc::Channel> channel = factory.Dial(a);
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(factory.Dial(a), channel);
  EXPECT_NE(factory.Dial({"b", "us-east", server.address()}), channel);
  std::optional<std::string> bridge = factory.BridgeAddress("a");
  ASSERT_TRUE(bridge.has_value());
  EXPECT_NE(*bridge, server.address());
  EXPECT_NE(factory.BridgeAddress("b"), bridge);

  grpc::Status status = Check(channel);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::optional<LinkBridgeStats> stats = factory.Stats("a");
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->bytes_to_target, 0u);
  EXPECT_GT(stats->bytes_to_client, 0u);

  // A changed region means a new link (and latency).
  std::shared_ptr<grpc::Channel> moved = factory.Dial({"a", "eu-west", server.address()});
  EXPECT_NE(moved, channel);
  EXPECT_THAT(factory.Latency("a"), Optional(absl::Milliseconds(2)));
}

TEST(BridgedChannelFactoryTest, AppliesTheModelLatencyOfEachRegionPair) {
  HealthServer server;
  BridgedChannelFactory factory("eu-west", ExampleModel());
  factory.Dial({"us", "us-east", server.address()});
  factory.Dial({"ap", "ap-south", server.address()});
  factory.Dial({"eu", "eu-west", server.address()});
  factory.Dial({"sa", "sa-east", server.address()});
  EXPECT_THAT(factory.Latency("us"), Optional(absl::Milliseconds(40)));
  EXPECT_THAT(factory.Latency("ap"), Optional(absl::Milliseconds(75)));
  EXPECT_THAT(factory.Latency("eu"), Optional(absl::Milliseconds(2)));
  EXPECT_THAT(factory.Latency("sa"), Optional(absl::Milliseconds(80)));
  EXPECT_EQ(factory.Latency("never-dialled"), std::nullopt);

  // The latency is real: a call on a connected channel costs a round trip.
  std::shared_ptr<grpc::Channel> us = factory.Dial({"us", "us-east", server.address()});
  ASSERT_TRUE(Check(us).ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Check(us).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(80));
}

TEST(BridgedChannelFactoryTest, DisabledModelMeansNoLatency) {
  HealthServer server;
  BridgedChannelFactory factory("eu-west", LatencyModel());
  ASSERT_TRUE(Check(factory.Dial({"us", "us-east", server.address()})).ok());
  EXPECT_THAT(factory.Latency("us"), Optional(absl::ZeroDuration()));
}

TEST(BridgedChannelFactoryTest, SetLatencyOverridesTheModelForOnePeer) {
  HealthServer server;
  BridgedChannelFactory factory("eu-west", ExampleModel());
  factory.SetLatency("later", absl::Milliseconds(7));  // before the first Dial
  factory.Dial({"later", "us-east", server.address()});
  factory.Dial({"now", "us-east", server.address()});
  EXPECT_THAT(factory.Latency("later"), Optional(absl::Milliseconds(7)));
  EXPECT_THAT(factory.Latency("now"), Optional(absl::Milliseconds(40)));
  factory.SetLatency("now", absl::Milliseconds(1));
  EXPECT_THAT(factory.Latency("now"), Optional(absl::Milliseconds(1)));
}

TEST(BridgedChannelFactoryTest, CutAndHealActOnOnePeerOnly) {
  HealthServer server_a;
  HealthServer server_b;
  BridgedChannelFactory factory("eu-west", LatencyModel());
  std::shared_ptr<grpc::Channel> a = factory.Dial({"a", "eu-west", server_a.address()});
  std::shared_ptr<grpc::Channel> b = factory.Dial({"b", "eu-west", server_b.address()});
  ASSERT_TRUE(Check(a).ok());
  ASSERT_TRUE(Check(b).ok());

  factory.Cut("a");
  EXPECT_THAT(Check(a, absl::Seconds(2), /*wait_for_ready=*/false).error_code(),
              AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_TRUE(Check(b).ok());

  factory.Heal("a");
  grpc::Status healed = Check(a);  // waits out the reconnect backoff (at most 1 s)
  EXPECT_TRUE(healed.ok()) << healed.error_message();
}

TEST(BridgedChannelFactoryTest, CutBeforeTheFirstDialApplies) {
  HealthServer server;
  BridgedChannelFactory factory("eu-west", LatencyModel());
  factory.Cut("a");
  std::shared_ptr<grpc::Channel> a = factory.Dial({"a", "eu-west", server.address()});
  EXPECT_THAT(Check(a, absl::Seconds(2), /*wait_for_ready=*/false).error_code(),
              AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED));
  factory.Heal("a");
  EXPECT_TRUE(Check(a).ok());
}

TEST(BridgedChannelFactoryTest, BlackholeTimesOutOnePeerUntilLifted) {
  HealthServer server;
  BridgedChannelFactory factory("eu-west", LatencyModel());
  std::shared_ptr<grpc::Channel> a = factory.Dial({"a", "eu-west", server.address()});
  std::shared_ptr<grpc::Channel> b = factory.Dial({"b", "eu-west", server.address()});
  ASSERT_TRUE(Check(a).ok());
  ASSERT_TRUE(Check(b).ok());
  factory.Blackhole("a", true);
  EXPECT_EQ(Check(a, absl::Milliseconds(300), false).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Check(b).ok());
  factory.Blackhole("a", false);
  EXPECT_TRUE(Check(a).ok());
}

// Connects to `address`, sends a byte and reads it back from the echo thread of EchoServer.
absl::Status EchoOnce(const std::string& address, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<Socket> s = ConnectTcp(address, deadline);
  if (!s.ok()) return s.status();
  if (absl::Status sent = SendAll(s->fd(), "x", deadline); !sent.ok()) return sent;
  char c = 0;
  absl::StatusOr<size_t> got = ReceiveSome(s->fd(), &c, 1, deadline);
  return got.ok() ? absl::OkStatus() : got.status();
}

// Accepts connections on a free loopback port and echoes one byte on each.
class EchoServer {
 public:
  EchoServer() {
    absl::StatusOr<Socket> listener = ListenTcp("127.0.0.1", 0, &port_);
    EXPECT_TRUE(listener.ok()) << listener.status();
    listener_ = std::move(*listener);
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        absl::StatusOr<Socket> c = AcceptTcp(listener_);
        if (!c.ok() || !c->valid()) {
          absl::SleepFor(absl::Milliseconds(1));
          continue;
        }
        char b = 0;
        absl::StatusOr<size_t> got = ReceiveSome(c->fd(), &b, 1, absl::Now() + absl::Seconds(5));
        if (got.ok()) (void)SendAll(c->fd(), absl::string_view(&b, 1), absl::Now() + absl::Seconds(5));
      }
    });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int port_ = 0;
  Socket listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(BridgedChannelFactoryTest, RouteStreamCarriesTcpOverTheSameModelledLink) {
  HealthServer grpc_port;
  EchoServer stream_port;
  BridgedChannelFactory factory("eu-west", ExampleModel());
  const PeerAddress peer{"us", "us-east", grpc_port.address()};
  absl::StatusOr<std::string> route = factory.RouteStream(peer, stream_port.address());
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_NE(*route, stream_port.address());  // a bridge stands in for the link
  EXPECT_THAT(factory.RouteStream(peer, stream_port.address()), ::kv::testing::IsOkAndHolds(*route));

  // The link's latency: a byte there and back costs two modelled one-way trips.
  const absl::Time start = absl::Now();
  ASSERT_THAT(EchoOnce(*route, kPatience), IsOk());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(80));

  // Cutting the link cuts the stream's connections too, until it heals.
  factory.Cut("us");
  EXPECT_FALSE(EchoOnce(*route, absl::Seconds(2)).ok());
  factory.Heal("us");
  EXPECT_THAT(EchoOnce(*route, kPatience), IsOk());
}

TEST(TcpChannelFactoryTest, RouteStreamIsTheAddressItself) {
  std::unique_ptr<ChannelFactory> factory = MakeTcpChannelFactory();
  EXPECT_THAT(factory->RouteStream({"a", "r", "127.0.0.1:1"}, "127.0.0.1:2"),
              ::kv::testing::IsOkAndHolds(std::string("127.0.0.1:2")));
}

TEST(BridgedChannelFactoryTest, UnbridgeableAddressGivesAFailingChannel) {
  BridgedChannelFactory factory("eu-west", LatencyModel());
  std::shared_ptr<grpc::Channel> channel = factory.Dial({"far", "eu-west", "192.0.2.1:7400"});
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(Check(channel, absl::Seconds(5), false).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(factory.Stats("far").has_value());  // not cached: a later Dial retries
}

// Keepalive at a test-friendly rate: 200 ms pings (gRPC sends at most one a second),
// 200 ms to answer.
ChannelOptions FastKeepalive() {
  ChannelOptions options;
  options.keepalive_time = absl::Milliseconds(200);
  options.keepalive_timeout = absl::Milliseconds(200);
  return options;
}

TEST(BridgedChannelFactoryTest, KeepaliveNoticesABlackholedPeerWithoutCalls) {
  HealthServer server(FastKeepalive());
  BridgedChannelFactory factory("eu-west", LatencyModel(), FastKeepalive());
  std::shared_ptr<grpc::Channel> channel = factory.Dial({"a", "eu-west", server.address()});
  ASSERT_TRUE(Check(channel).ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  factory.Blackhole("a", true);
  // No call is made: only keepalive can notice the silent peer.
  const absl::Time deadline = absl::Now() + kPatience;
  while (channel->GetState(false) == GRPC_CHANNEL_READY && absl::Now() < deadline) {
    channel->WaitForStateChange(GRPC_CHANNEL_READY, absl::ToChronoTime(deadline));
  }
  EXPECT_NE(channel->GetState(false), GRPC_CHANNEL_READY);
}

TEST(BridgedChannelFactoryTest, PeerServerAcceptsKeepalivePingsOnAnIdleLink) {
  // gRPC 1.51 sends at most one ping a second. Without ConfigurePeerServer the server
  // counts the idle link's second and third pings as strikes and answers with GOAWAY
  // too_many_pings about 3 s in, and the channel leaves READY. An absence needs a window.
  HealthServer server(FastKeepalive());
  BridgedChannelFactory factory("eu-west", LatencyModel(), FastKeepalive());
  std::shared_ptr<grpc::Channel> channel = factory.Dial({"a", "eu-west", server.address()});
  ASSERT_TRUE(Check(channel).ok());
  EXPECT_FALSE(channel->WaitForStateChange(
      GRPC_CHANNEL_READY, absl::ToChronoTime(absl::Now() + absl::Milliseconds(4500))));
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
}

}  // namespace
}  // namespace kv
