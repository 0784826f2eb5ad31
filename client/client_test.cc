#include "client/client.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>

#include "client/mocks/mock_connection.h"
#include "common/testing/status_matchers.h"
#include "kv/v1/kv.grpc.pb.h"

namespace kv {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;
using ::testing::_;
using ::testing::Eq;
using ::testing::Optional;
using ::testing::Return;

const std::string kNs = "0123456789abcdef0123456789abcdef";

TEST(ClientTest, GetReturnsTheValueAndNulloptForMissingKeys) {
  auto mock = std::make_shared<kv::testing::MockConnection>();
  EXPECT_CALL(*mock, Get(kNs, "flag", false, _))
      .WillOnce(Return(std::optional<ValueWithMetadata>(ValueWithMetadata{"on", {}, {}})));
  EXPECT_CALL(*mock, Get(kNs, "missing", false, _))
      .WillOnce(Return(std::optional<ValueWithMetadata>()));
  Client client(mock);
  EXPECT_THAT(client.Get(kNs, "flag"), IsOkAndHolds(Optional(std::string("on"))));
  EXPECT_THAT(client.Get(kNs, "missing"), IsOkAndHolds(Eq(std::nullopt)));
}

TEST(ClientTest, GetWithMetadataAsksForMetadata) {
  auto mock = std::make_shared<kv::testing::MockConnection>();
  ValueWithMetadata v{"x", "{\"a\":1}", absl::FromUnixSeconds(2'000'000'000)};
  EXPECT_CALL(*mock, Get(kNs, "k", true, _)).WillOnce(Return(std::optional(v)));
  EXPECT_THAT(Client(mock).GetWithMetadata(kNs, "k"), IsOkAndHolds(Optional(v)));
}

TEST(ClientTest, ErrorsPassThroughUnchanged) {
  auto mock = std::make_shared<kv::testing::MockConnection>();
  EXPECT_CALL(*mock, Put(kNs, "k", "v", _))
      .WillOnce(Return(absl::NotFoundError("namespace not found")));
  EXPECT_THAT(Client(mock).Put(kNs, "k", "v"),
              StatusIs(StatusCode::kNotFound, "namespace not found"));
}

TEST(ClientTest, CopiesShareTheConnection) {
  auto mock = std::make_shared<kv::testing::MockConnection>();
  Client a(mock);
  Client b = a;
  EXPECT_EQ(a.connection(), b.connection());
}

// A fake node that fails the first calls with UNAVAILABLE, to check retry behaviour.
class FlakyService final : public kv::v1::KV::Service {
 public:
  grpc::Status List(grpc::ServerContext*, const kv::v1::ListRequest*,
                    kv::v1::ListResponse* response) override {
    if (++list_calls <= failures) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "flaky");
    response->set_list_complete(true);
    response->add_keys()->set_name("k");
    return grpc::Status::OK;
  }
  grpc::Status Put(grpc::ServerContext*, grpc::ServerReader<kv::v1::PutRequest>* reader,
                   kv::v1::PutResponse*) override {
    kv::v1::PutRequest m;
    while (reader->Read(&m)) {
    }
    ++put_calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "flaky");
  }
  std::atomic<int> list_calls{0};
  std::atomic<int> put_calls{0};
  int failures = 0;
};

class RetryTest : public ::testing::Test {
 protected:
  RetryTest() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~RetryTest() override { server_->Shutdown(); }

  Client MakeClient(int attempts) {
    ClientOptions options;
    options.endpoint = "127.0.0.1:" + std::to_string(port_);
    options.retry.max_attempts = attempts;
    options.retry.initial_backoff = absl::Milliseconds(1);
    return Client::Connect(options);
  }

  FlakyService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(RetryTest, IdempotentCallsRetryOnUnavailable) {
  service_.failures = 2;
  absl::StatusOr<ListResult> page = MakeClient(5).List(kNs);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->keys.size(), 1u);
  EXPECT_EQ(service_.list_calls.load(), 3);
}

TEST_F(RetryTest, GivesUpAfterMaxAttempts) {
  service_.failures = 100;
  EXPECT_THAT(MakeClient(3).List(kNs), StatusIs(StatusCode::kUnavailable, "flaky"));
  EXPECT_EQ(service_.list_calls.load(), 3);
}

TEST_F(RetryTest, PutsAreNeverRetried) {
  EXPECT_THAT(MakeClient(5).Put(kNs, "k", "v"), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(service_.put_calls.load(), 1);
}

TEST(ClientValidationTest, RejectsOversizedInputBeforeSendingIt) {
  ClientOptions options;
  options.endpoint = "127.0.0.1:1";  // never contacted
  Client client = Client::Connect(options);
  EXPECT_THAT(client.Put(kNs, "k", std::string(26214401, 'x')),
              StatusIs(StatusCode::kInvalidArgument,
                       "Value length of 26214401 exceeds limit of 26214400."));
  EXPECT_THAT(client.Put(kNs, "", "v"),
              StatusIs(StatusCode::kInvalidArgument, "Key names must not be empty"));
  EXPECT_THAT(client.BulkGet(kNs, std::vector<std::string>(101, "k")),
              StatusIs(StatusCode::kInvalidArgument, "You can request a maximum of 100 keys"));
  EXPECT_THAT(client.BulkDelete(kNs, {}), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace kv
