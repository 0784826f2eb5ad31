// Bad input through the raw gRPC API (bypassing the SDK's own checks): every rule gets
// its exact error, and nothing crashes the node or touches stored data.

#include <gmock/gmock.h>
#include <limits>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/testing/status_matchers.h"
#include "tests/integration/node_fixture.h"

namespace kv {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

class BadInputTest : public kv::testing::NodeFixture {
 protected:
  BadInputTest() {
    ns_ = NewNamespace();
    EXPECT_THAT(client_->Put(ns_, "precious", "data"), IsOk());
  }
  ~BadInputTest() override {
    // Whatever was thrown at it, the node still serves and the data is intact.
    EXPECT_THAT(client_->Get(ns_, "precious"), IsOkAndHolds(Optional(std::string("data"))));
  }

  // Sends `messages` as one Put stream and returns the status.
  absl::Status RawPut(const std::vector<kv::v1::PutRequest>& messages) {
    grpc::ClientContext ctx;
    kv::v1::PutResponse response;
    auto writer = stub_->Put(&ctx, &response);
    for (const auto& m : messages) {
      if (!writer->Write(m)) break;
    }
    writer->WritesDone();
    return FromGrpcStatus(writer->Finish());
  }

  kv::v1::PutRequest PutMessage(const std::string& key, const std::string& value) {
    kv::v1::PutRequest m;
    m.set_namespace_id(ns_);
    m.set_key(key);
    m.set_value_size(static_cast<int64_t>(value.size()));
    m.set_value_chunk(value);
    return m;
  }

  absl::Status RawGet(kv::v1::GetRequest request) {
    grpc::ClientContext ctx;
    auto reader = stub_->Get(&ctx, request);
    kv::v1::GetResponse message;
    while (reader->Read(&message)) {
    }
    return FromGrpcStatus(reader->Finish());
  }

  std::string ns_;
};

TEST_F(BadInputTest, KeyRules) {
  auto invalid = [](const std::string& msg) { return StatusIs(StatusCode::kInvalidArgument, msg); };
  EXPECT_THAT(RawPut({PutMessage("", "v")}), invalid("Key names must not be empty"));
  EXPECT_THAT(RawPut({PutMessage(".", "v")}),
              invalid("Illegal key name \".\". Please use a different name."));
  EXPECT_THAT(RawPut({PutMessage("..", "v")}),
              invalid("Illegal key name \"..\". Please use a different name."));
  EXPECT_THAT(RawPut({PutMessage(std::string(513, 'k'), "v")}),
              invalid("UTF-8 encoded length of 513 exceeds key length limit of 512."));
  EXPECT_THAT(RawPut({PutMessage(std::string(512, 'k'), "v")}), IsOk());
  EXPECT_THAT(RawPut({PutMessage("bad\xff\xfe", "v")}), invalid("Key names must be valid UTF-8"));
  kv::v1::GetRequest get;
  get.set_namespace_id(ns_);
  get.set_key("\xc0\x80");
  EXPECT_THAT(RawGet(get), invalid("Key names must be valid UTF-8"));
}

TEST_F(BadInputTest, ValueSizeLimitAnnouncedOrStreamed) {
  kv::v1::PutRequest announced = PutMessage("k", "");
  announced.set_value_size(kMaxValueBytes + 1);
  EXPECT_THAT(RawPut({announced}),
              StatusIs(StatusCode::kInvalidArgument,
                       "Value length of 26214401 exceeds limit of 26214400."));
  // A client that announces the limit but sends more is stopped at the extra byte.
  std::vector<kv::v1::PutRequest> stream;
  stream.push_back(PutMessage("k", std::string(kStreamChunkBytes, 'x')));
  stream[0].set_value_size(kMaxValueBytes);
  for (int i = 1; i < 25; ++i) {
    kv::v1::PutRequest part;
    part.set_value_chunk(std::string(kStreamChunkBytes, 'x'));
    stream.push_back(part);
  }
  kv::v1::PutRequest last;
  last.set_value_chunk("y");
  stream.push_back(last);
  EXPECT_THAT(RawPut(stream), StatusIs(StatusCode::kInvalidArgument,
                                       HasSubstr("Value length of 26214401 exceeds limit")));
  EXPECT_THAT(client_->Get(ns_, "k"), IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TEST_F(BadInputTest, AnnouncedSizeMustMatchWhatArrives) {
  kv::v1::PutRequest m = PutMessage("k", "abc");
  m.set_value_size(10);
  EXPECT_THAT(RawPut({m}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("announced")));
  m.set_value_size(2);
  EXPECT_THAT(RawPut({m}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("announced")));
  EXPECT_THAT(RawPut({}), StatusIs(StatusCode::kInvalidArgument));
  m.clear_value_size();  // a stream cut short must never pass for a shorter value
  EXPECT_THAT(RawPut({m}), StatusIs(StatusCode::kInvalidArgument,
                                    "Put must announce value_size in its first message"));
  EXPECT_THAT(client_->Get(ns_, "k"), IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TEST_F(BadInputTest, MetadataAndExpirationRules) {
  auto invalid = [](const std::string& msg) { return StatusIs(StatusCode::kInvalidArgument, msg); };
  kv::v1::PutRequest m = PutMessage("k", "v");
  m.set_metadata("\"" + std::string(1023, 'm') + "\"");
  EXPECT_THAT(RawPut({m}), invalid("Metadata length of 1025 exceeds limit of 1024."));
  m.set_metadata("{not json");
  EXPECT_THAT(RawPut({m}), invalid("metadata must be valid json"));
  m.set_metadata("\"\xff\"");
  EXPECT_THAT(RawPut({m}), invalid("metadata must be valid json"));
  m.clear_metadata();

  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  m.set_expiration_ttl(0);
  EXPECT_THAT(RawPut({m}),
              invalid("Invalid expiration_ttl of 0. Please specify integer greater than 0."));
  m.set_expiration_ttl(59);
  EXPECT_THAT(RawPut({m}), invalid("Invalid expiration_ttl of 59. Expiration TTL must be at least 60."));
  m.clear_expiration_ttl();
  m.set_expiration(now);
  EXPECT_THAT(RawPut({m}), invalid(absl::StrCat("Invalid expiration of ", now,
                                                ". Please specify integer greater than the "
                                                "current number of seconds since the UNIX epoch.")));
  m.set_expiration(now + 59);
  EXPECT_THAT(RawPut({m}), invalid(absl::StrCat("Invalid expiration of ", now + 59,
                                                ". Expiration times must be at least 60 seconds "
                                                "in the future.")));
  m.set_expiration(now + 60);
  EXPECT_THAT(RawPut({m}), IsOk());
  m.clear_expiration();
  m.set_expiration_ttl(std::numeric_limits<int64_t>::max());  // once overflowed to "expired"
  EXPECT_THAT(RawPut({m}), invalid("Invalid expiration_ttl of 9223372036854775807. Expiration "
                                   "must be before the year 10000."));
  m.clear_expiration_ttl();

  kv::v1::GetRequest get;
  get.set_namespace_id(ns_);
  get.set_key("k");
  get.set_cache_ttl(29);
  EXPECT_THAT(RawGet(get), invalid("Invalid cache_ttl of 29. Cache TTL must be at least 30."));
  get.set_cache_ttl(30);
  EXPECT_THAT(RawGet(get), IsOk());
}

TEST_F(BadInputTest, ListRules) {
  auto list = [&](const std::string& prefix, const std::string& cursor) {
    kv::v1::ListRequest request;
    request.set_namespace_id(ns_);
    request.set_prefix(prefix);
    request.set_cursor(cursor);
    kv::v1::ListResponse response;
    grpc::ClientContext ctx;
    return FromGrpcStatus(stub_->List(&ctx, request, &response));
  };
  EXPECT_THAT(list(std::string(513, 'p'), ""),
              StatusIs(StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 513 exceeds key length limit of 512."));
  EXPECT_THAT(list(std::string(512, 'p'), ""), IsOk());
  EXPECT_THAT(list("\xff", ""), StatusIs(StatusCode::kInvalidArgument));
  for (const std::string& cursor : {std::string("%%%"), std::string("AAAA"),
                                   std::string(10000, 'A'), std::string("\xff\x00\x01", 3)}) {
    EXPECT_THAT(list("", cursor), StatusIs(StatusCode::kInvalidArgument, HasSubstr("Invalid cursor")));
  }
}

TEST_F(BadInputTest, BulkGetRules) {
  auto bulk_get = [&](int keys, const std::string& type) {
    kv::v1::BulkGetRequest request;
    request.set_namespace_id(ns_);
    for (int i = 0; i < keys; ++i) request.add_keys("k" + std::to_string(i));
    request.set_type(type);
    grpc::ClientContext ctx;
    auto reader = stub_->BulkGet(&ctx, request);
    kv::v1::BulkGetResponse message;
    while (reader->Read(&message)) {
    }
    return FromGrpcStatus(reader->Finish());
  };
  EXPECT_THAT(bulk_get(0, ""), StatusIs(StatusCode::kInvalidArgument,
                                        "You must request a minimum of 1 key"));
  EXPECT_THAT(bulk_get(101, ""), StatusIs(StatusCode::kInvalidArgument,
                                          "You can request a maximum of 100 keys"));
  EXPECT_THAT(bulk_get(100, "text"), IsOk());
  EXPECT_THAT(bulk_get(1, "stream"),
              StatusIs(StatusCode::kInvalidArgument,
                       "\"stream\" is not a valid type. Use \"json\" or \"text\""));
}

TEST_F(BadInputTest, BulkPutLimitsAnnouncedUpFrontStoreNothing) {
  auto bulk_put = [&](const std::vector<kv::v1::BulkPutRequest>& messages) {
    grpc::ClientContext ctx;
    kv::v1::BulkPutResponse response;
    auto writer = stub_->BulkPut(&ctx, &response);
    for (const auto& m : messages) {
      if (!writer->Write(m)) break;
    }
    writer->WritesDone();
    return FromGrpcStatus(writer->Finish());
  };
  kv::v1::BulkPutRequest first;
  first.set_namespace_id(ns_);
  first.set_item_count(10001);
  kv::v1::BulkPutItem* item = first.add_items();
  item->set_key("written?");
  item->set_value_size(1);
  item->set_value_chunk("x");
  EXPECT_THAT(bulk_put({first}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("10000")));
  first.clear_item_count();
  first.set_total_bytes(kMaxBulkRequestBytes + 1);
  EXPECT_THAT(bulk_put({first}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("104857600")));
  EXPECT_THAT(client_->Get(ns_, "written?"), IsOkAndHolds(::testing::Eq(std::nullopt)));

  // Protocol violations.
  kv::v1::BulkPutRequest stray;
  stray.set_namespace_id(ns_);
  stray.set_continuation("orphan bytes");
  EXPECT_THAT(bulk_put({stray}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("continuation")));
  kv::v1::BulkPutRequest overflow;
  overflow.set_namespace_id(ns_);
  item = overflow.add_items();
  item->set_key("k");
  item->set_value_size(2);
  item->set_value_chunk("abc");
  EXPECT_THAT(bulk_put({overflow}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than")));
  kv::v1::BulkPutRequest truncated;
  truncated.set_namespace_id(ns_);
  item = truncated.add_items();
  item->set_key("k");
  item->set_value_size(5 << 20);
  item->set_value_chunk("abc");
  EXPECT_THAT(bulk_put({truncated}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("ended inside")));
  kv::v1::BulkPutRequest empty;
  empty.set_namespace_id(ns_);
  EXPECT_THAT(bulk_put({empty}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("minimum of 1")));
}

TEST_F(BadInputTest, BulkPutOfManySmallItemsInOneMessageDoesNotRecurse) {
  // Regression: each synchronously taken item recursed into the next, so 10,000 items in
  // one message overflowed the stack of a gRPC thread (found with ASan).
  kv::v1::BulkPutRequest message;
  message.set_namespace_id(ns_);
  for (int i = 0; i < kMaxBulkWriteItems; ++i) {
    kv::v1::BulkPutItem* item = message.add_items();
    item->set_key("k" + std::to_string(i));
    item->set_value_chunk("v");
  }
  grpc::ClientContext ctx;
  kv::v1::BulkPutResponse response;
  auto writer = stub_->BulkPut(&ctx, &response);
  ASSERT_TRUE(writer->Write(message));
  writer->WritesDone();
  ASSERT_THAT(FromGrpcStatus(writer->Finish()), IsOk());
  EXPECT_EQ(response.successful_key_count(), kMaxBulkWriteItems);
  EXPECT_THAT(client_->Get(ns_, "k9999"), IsOkAndHolds(Optional(std::string("v"))));
}

TEST_F(BadInputTest, OversizedMessagesAreRefusedByGrpc) {
  kv::v1::BulkDeleteRequest request;
  request.set_namespace_id(ns_);
  for (int i = 0; i < 20000; ++i) request.add_keys(std::string(500, 'k'));  // ~10 MB
  kv::v1::BulkDeleteResponse response;
  grpc::ClientContext ctx;
  EXPECT_THAT(FromGrpcStatus(stub_->BulkDelete(&ctx, request, &response)),
              StatusIs(StatusCode::kResourceExhausted));
  // A BulkDelete at its limits (10,000 keys of 512 bytes) fits.
  request.clear_keys();
  for (int i = 0; i < kMaxBulkWriteItems; ++i) {
    request.add_keys(absl::StrCat(absl::Dec(i, absl::kZeroPad7), std::string(505, 'k')));
  }
  grpc::ClientContext ctx2;
  EXPECT_THAT(FromGrpcStatus(stub_->BulkDelete(&ctx2, request, &response)), IsOk());
  EXPECT_EQ(response.successful_key_count(), kMaxBulkWriteItems);
}

TEST_F(BadInputTest, ClientCancellingMidUploadStoresNothing) {
  {
    grpc::ClientContext ctx;
    kv::v1::PutResponse response;
    auto writer = stub_->Put(&ctx, &response);
    kv::v1::PutRequest m = PutMessage("half", std::string(kStreamChunkBytes, 'h'));
    m.set_value_size(10 * kStreamChunkBytes);
    ASSERT_TRUE(writer->Write(m));
    kv::v1::PutRequest part;
    part.set_value_chunk(std::string(kStreamChunkBytes, 'h'));
    ASSERT_TRUE(writer->Write(part));
    ctx.TryCancel();
    EXPECT_THAT(FromGrpcStatus(writer->Finish()), StatusIs(StatusCode::kCancelled));
  }
  EXPECT_THAT(client_->Get(ns_, "half"), IsOkAndHolds(::testing::Eq(std::nullopt)));
}

}  // namespace
}  // namespace kv
