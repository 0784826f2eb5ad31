// Every RPC of kv.v1.KV through the real SDK against an in-process node.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "common/limits.h"
#include "common/testing/status_matchers.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/integration/node_fixture.h"

namespace kv {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::SizeIs;

class NodeApiTest : public kv::testing::NodeFixture {};

TEST_F(NodeApiTest, NamespacesLifecycle) {
  ASSERT_THAT(client_->ListNamespaces(), IsOkAndHolds(SizeIs(0)));
  absl::StatusOr<Namespace> a = client_->CreateNamespace("sessions");
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->id, ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(client_->CreateNamespace("sessions"),
              StatusIs(StatusCode::kAlreadyExists,
                       "a namespace with this account ID and title already exists"));
  absl::StatusOr<Namespace> b = client_->CreateNamespace("flags");
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(client_->ListNamespaces(),
              IsOkAndHolds(ElementsAre(Namespace{b->id, "flags"}, Namespace{a->id, "sessions"})));
  EXPECT_THAT(client_->RenameNamespace(a->id, "user-sessions"),
              IsOkAndHolds(Namespace{a->id, "user-sessions"}));
  ASSERT_THAT(client_->Put(a->id, "k", "v"), IsOk());
  ASSERT_THAT(client_->DeleteNamespace(a->id), IsOk());
  EXPECT_THAT(client_->Get(a->id, "k"), StatusIs(StatusCode::kNotFound, "namespace not found"));
  EXPECT_THAT(client_->DeleteNamespace(a->id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->ListNamespaces(), IsOkAndHolds(ElementsAre(Namespace{b->id, "flags"})));
  // Deleting removes its keys from disk too (background purge).
  EXPECT_THAT(node_->sweeper()->RunOnce(), IsOkAndHolds(1));
}

TEST_F(NodeApiTest, NamespaceTitleLimits) {
  EXPECT_THAT(client_->CreateNamespace(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->CreateNamespace(std::string(512, 't')), IsOk());
  EXPECT_THAT(client_->CreateNamespace(std::string(513, 't')),
              StatusIs(StatusCode::kInvalidArgument,
                       "Namespace title length of 513 exceeds limit of 512."));
}

TEST_F(NodeApiTest, UnknownAndMalformedNamespacesAreRejectedByEveryCall) {
  const std::string unknown = "0123456789abcdef0123456789abcdef";
  auto not_found = StatusIs(StatusCode::kNotFound, "namespace not found");
  EXPECT_THAT(client_->Get(unknown, "k"), not_found);
  EXPECT_THAT(client_->GetWithMetadata(unknown, "k"), not_found);
  EXPECT_THAT(client_->BulkGet(unknown, {"k"}), not_found);
  EXPECT_THAT(client_->Put(unknown, "k", "v"), not_found);
  EXPECT_THAT(client_->Delete(unknown, "k"), not_found);
  EXPECT_THAT(client_->BulkPut(unknown, {{"k", "v", {}}}), not_found);
  EXPECT_THAT(client_->BulkDelete(unknown, {"k"}), not_found);
  EXPECT_THAT(client_->List(unknown), not_found);
  EXPECT_THAT(client_->RenameNamespace(unknown, "x"), not_found);
  EXPECT_THAT(client_->DeleteNamespace(unknown), not_found);
  EXPECT_THAT(client_->Get("not-an-id", "k"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("32 lowercase hex")));
}

TEST_F(NodeApiTest, PutGetDeleteAndMissingKeys) {
  const std::string ns = NewNamespace();
  EXPECT_THAT(client_->Get(ns, "absent"), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client_->GetWithMetadata(ns, "absent"), IsOkAndHolds(Eq(std::nullopt)));
  ASSERT_THAT(client_->Put(ns, "k", "hello"), IsOk());
  EXPECT_THAT(client_->Get(ns, "k"), IsOkAndHolds(Optional(std::string("hello"))));
  ASSERT_THAT(client_->Put(ns, "empty", ""), IsOk());
  EXPECT_THAT(client_->Get(ns, "empty"), IsOkAndHolds(Optional(std::string(""))));
  ASSERT_THAT(client_->Delete(ns, "k"), IsOk());
  EXPECT_THAT(client_->Get(ns, "k"), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client_->Delete(ns, "k"), IsOk());  // deleting again is fine
  const std::string binary("\0\x01\xff\xfe", 4);
  ASSERT_THAT(client_->Put(ns, "\xF0\x9F\x94\x91 key with spaces/and%_*", binary), IsOk());
  EXPECT_THAT(client_->Get(ns, "\xF0\x9F\x94\x91 key with spaces/and%_*"),
              IsOkAndHolds(Optional(binary)));
}

TEST_F(NodeApiTest, MetadataOfEveryJsonTypeAndAbsentMetadata) {
  const std::string ns = NewNamespace();
  for (const std::string json : {"{\"a\":{\"b\":[1,null]}}", "[1,2]", "\"text\"", "-2.5e3",
                                 "false", "null"}) {
    ASSERT_THAT(client_->Put(ns, "k", "v", {.metadata = json}), IsOk());
    absl::StatusOr<std::optional<ValueWithMetadata>> got = client_->GetWithMetadata(ns, "k");
    ASSERT_THAT(got, IsOk());
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->metadata, json);
  }
  ASSERT_THAT(client_->Put(ns, "plain", "v"), IsOk());
  EXPECT_THAT(client_->GetWithMetadata(ns, "plain"),
              IsOkAndHolds(Optional(ValueWithMetadata{"v", std::nullopt, std::nullopt})));
}

TEST_F(NodeApiTest, ExpirationByTtlAndAbsoluteTimeEndsAtExactlyTheSecond) {
  const std::string ns = NewNamespace();
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  ASSERT_THAT(client_->Put(ns, "ttl", "v", {.expiration_ttl = absl::Seconds(60)}), IsOk());
  ASSERT_THAT(client_->Put(ns, "abs", "v", {.expiration = absl::FromUnixSeconds(now + 120)}),
              IsOk());
  // TTL wins over expiration when both are given.
  ASSERT_THAT(client_->Put(ns, "both", "v",
                           {.expiration = absl::FromUnixSeconds(now + 500),
                            .expiration_ttl = absl::Seconds(90)}),
              IsOk());
  auto expiration_of = [&](const std::string& key) -> std::optional<absl::Time> {
    auto got = client_->GetWithMetadata(ns, key);
    return got.ok() && got->has_value() ? (*got)->expiration : std::nullopt;
  };
  EXPECT_EQ(expiration_of("ttl"), absl::FromUnixSeconds(now + 60));
  EXPECT_EQ(expiration_of("abs"), absl::FromUnixSeconds(now + 120));
  EXPECT_EQ(expiration_of("both"), absl::FromUnixSeconds(now + 90));

  clock_.Set(absl::FromUnixSeconds(now + 60) - absl::Milliseconds(1));
  EXPECT_THAT(client_->Get(ns, "ttl"), IsOkAndHolds(Optional(std::string("v"))));
  clock_.Set(absl::FromUnixSeconds(now + 60));
  EXPECT_THAT(client_->Get(ns, "ttl"), IsOkAndHolds(Eq(std::nullopt)));
  absl::StatusOr<ListResult> page = client_->List(ns);
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->keys, SizeIs(2));  // "abs" and "both"
  // The sweep turns "ttl" into a tombstone, and a lone node (every member has applied
  // it) collects that tombstone in the same pass.
  EXPECT_THAT(node_->sweeper()->RunOnce(), IsOkAndHolds(2));
  EXPECT_THAT(node_->sweeper()->RunOnce(), IsOkAndHolds(0));
}

TEST_F(NodeApiTest, OverwriteReplacesEverything) {
  const std::string ns = NewNamespace();
  ASSERT_THAT(client_->Put(ns, "k", "v1",
                           {.expiration_ttl = absl::Hours(1), .metadata = "{\"v\":1}"}),
              IsOk());
  ASSERT_THAT(client_->Put(ns, "k", "v2"), IsOk());
  EXPECT_THAT(client_->GetWithMetadata(ns, "k"),
              IsOkAndHolds(Optional(ValueWithMetadata{"v2", std::nullopt, std::nullopt})));
}

TEST_F(NodeApiTest, ValuesOfExactly25MiBRoundTrip) {
  const std::string ns = NewNamespace();
  const std::string big = RandomBytes(kMaxValueBytes, 1);
  ASSERT_THAT(client_->Put(ns, "big", big, {.metadata = "{\"kind\":\"blob\"}"}), IsOk());
  absl::StatusOr<std::optional<ValueWithMetadata>> got = client_->GetWithMetadata(ns, "big");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value.size(), big.size());
  EXPECT_TRUE((*got)->value == big);
  EXPECT_EQ((*got)->metadata, "{\"kind\":\"blob\"}");
  // Survives a restart, and an overwrite with a small value frees it.
  RestartNode();
  absl::StatusOr<std::optional<std::string>> again = client_->Get(ns, "big");
  ASSERT_THAT(again, IsOk());
  ASSERT_TRUE(again->has_value());
  EXPECT_TRUE(**again == big);
  ASSERT_THAT(client_->Put(ns, "big", "small"), IsOk());
  EXPECT_THAT(client_->Get(ns, "big"), IsOkAndHolds(Optional(std::string("small"))));
}

TEST_F(NodeApiTest, ValuesAroundTheInlineAndChunkBoundariesRoundTrip) {
  const std::string ns = NewNamespace();
  const int64_t inline_limit = node_->store()->options().inline_value_limit;
  const int64_t chunk = node_->store()->options().blob_chunk_bytes;
  for (int64_t size : {inline_limit - 1, inline_limit, inline_limit + 1, chunk - 1, chunk,
                       chunk + 1, 3 * chunk}) {
    const std::string value = RandomBytes(static_cast<size_t>(size), static_cast<uint32_t>(size));
    ASSERT_THAT(client_->Put(ns, "k", value), IsOk()) << size;
    absl::StatusOr<std::optional<std::string>> got = client_->Get(ns, "k");
    ASSERT_THAT(got, IsOk());
    ASSERT_TRUE(got->has_value());
    EXPECT_TRUE(**got == value) << size;
  }
}

TEST_F(NodeApiTest, BulkPutAtTheItemLimitAndBulkDeleteAtTheLimit) {
  const std::string ns = NewNamespace();
  std::vector<BulkPutItem> items;
  std::vector<std::string> keys;
  for (int i = 0; i < kMaxBulkWriteItems; ++i) {
    keys.push_back("key-" + std::to_string(100000 + i));
    items.push_back({keys.back(), "value-" + std::to_string(i), {}});
  }
  absl::StatusOr<BulkPutResult> put = client_->BulkPut(ns, items);
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->successful_key_count, kMaxBulkWriteItems);
  EXPECT_THAT(put->unsuccessful_keys, SizeIs(0));
  EXPECT_THAT(client_->Get(ns, "key-109999"), IsOkAndHolds(Optional(std::string("value-9999"))));

  items.push_back({"one-too-many", "v", {}});
  EXPECT_THAT(client_->BulkPut(ns, items),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("maximum of 10000")));

  EXPECT_THAT(client_->BulkDelete(ns, keys), IsOkAndHolds(kMaxBulkWriteItems));
  EXPECT_THAT(client_->List(ns), IsOkAndHolds(::testing::Field(&ListResult::keys, SizeIs(0))));
  keys.push_back("extra");
  EXPECT_THAT(client_->BulkDelete(ns, keys), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(NodeApiTest, BulkPutReportsInvalidItemsAndWritesTheRest) {
  const std::string ns = NewNamespace();
  std::vector<BulkPutItem> items = {
      {"good", "1", {}},
      {"", "x", {}},
      {"bad-meta", "x", {.metadata = "{nope"}},
      {"bad-ttl", "x", {.expiration_ttl = absl::Seconds(59)}},
      {"big", RandomBytes(3 << 20, 3), {.metadata = "[1]"}},
      {"good2", "2", {.expiration_ttl = absl::Seconds(600)}},
  };
  absl::StatusOr<BulkPutResult> put = client_->BulkPut(ns, items);
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->successful_key_count, 3);
  EXPECT_THAT(put->unsuccessful_keys,
              ElementsAre(KeyError{"", "Key names must not be empty"},
                          KeyError{"bad-meta", "metadata must be valid json"},
                          KeyError{"bad-ttl",
                                   "Invalid expiration_ttl of 59. Expiration TTL must be at "
                                   "least 60."}));
  absl::StatusOr<std::optional<ValueWithMetadata>> big = client_->GetWithMetadata(ns, "big");
  ASSERT_THAT(big, IsOk());
  ASSERT_TRUE(big->has_value());
  EXPECT_TRUE((*big)->value == items[4].value);
  EXPECT_EQ((*big)->metadata, "[1]");
  EXPECT_THAT(client_->Get(ns, "bad-meta"), IsOkAndHolds(Eq(std::nullopt)));
}

TEST_F(NodeApiTest, BulkGetAtItsLimitsWithLargeValuesAndMetadata) {
  const std::string ns = NewNamespace();
  std::vector<std::string> keys;
  for (int i = 0; i < 99; ++i) {
    keys.push_back("k" + std::to_string(i));
    ASSERT_THAT(client_->Put(ns, keys.back(), "\"v" + std::to_string(i) + "\"",
                             {.metadata = "{\"i\":" + std::to_string(i) + "}"}),
                IsOk());
  }
  keys.push_back("missing");
  absl::StatusOr<BulkGetResult> got = client_->BulkGet(ns, keys, {.with_metadata = true});
  ASSERT_THAT(got, IsOk());
  ASSERT_THAT(*got, SizeIs(100));
  EXPECT_EQ(got->at("missing"), std::nullopt);
  ASSERT_TRUE(got->at("k42").has_value());
  EXPECT_EQ(got->at("k42")->value, "\"v42\"");
  EXPECT_EQ(got->at("k42")->metadata, "{\"i\":42}");
  // All values are JSON strings, so type json works.
  EXPECT_THAT(client_->BulkGet(ns, keys, {.type = BulkGetType::kJson}), IsOk());

  // Large values interleaved with small ones come back whole.
  const std::string a = RandomBytes(5 << 20, 5), b = RandomBytes((3 << 20) + 17, 6);
  ASSERT_THAT(client_->Put(ns, "a", a), IsOk());
  ASSERT_THAT(client_->Put(ns, "b", b), IsOk());
  absl::StatusOr<BulkGetResult> large = client_->BulkGet(ns, {"a", "k1", "b", "k2"});
  ASSERT_THAT(large, IsOk());
  EXPECT_TRUE(large->at("a")->value == a);
  EXPECT_TRUE(large->at("b")->value == b);
  EXPECT_EQ(large->at("k2")->value, "\"v2\"");
  EXPECT_THAT(client_->BulkGet(ns, {"a"}, {.type = BulkGetType::kJson}),
              StatusIs(StatusCode::kInvalidArgument,
                       "At least one of the requested keys corresponds to a non-json value"));
}

TEST_F(NodeApiTest, BulkGetRefusesResponsesOver25MiB) {
  const std::string ns = NewNamespace();
  ASSERT_THAT(client_->Put(ns, "a", std::string(13 << 20, 'a')), IsOk());
  ASSERT_THAT(client_->Put(ns, "b", std::string(13 << 20, 'b')), IsOk());
  EXPECT_THAT(client_->BulkGet(ns, {"a"}), IsOk());
  EXPECT_THAT(client_->BulkGet(ns, {"a", "b"}),
              StatusIs(StatusCode::kInvalidArgument,
                       "Total size of request exceeds the limit of 25MB"));
}

TEST_F(NodeApiTest, BulkGetJsonChecksLargeValuesWithoutLoadingThem) {
  const std::string ns = NewNamespace();
  std::string json = "[";
  while (json.size() < (3u << 20)) json += "{\"n\":12345,\"s\":\"abcdefgh\"},";
  json += "null]";
  ASSERT_THAT(client_->Put(ns, "doc", json), IsOk());
  absl::StatusOr<BulkGetResult> got = client_->BulkGet(ns, {"doc"}, {.type = BulkGetType::kJson});
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->at("doc")->value.size(), json.size());
  json.back() = ',';  // no longer JSON
  ASSERT_THAT(client_->Put(ns, "doc", json), IsOk());
  EXPECT_THAT(client_->BulkGet(ns, {"doc"}, {.type = BulkGetType::kJson}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(NodeApiTest, ListPaginatesWithCursorsAndReturnsMetadata) {
  const std::string ns = NewNamespace();
  std::vector<BulkPutItem> items;
  for (int i = 0; i < 250; ++i) {
    char key[32];
    snprintf(key, sizeof(key), "user:%04d", i);
    items.push_back({key, "v", {.metadata = "{\"i\":" + std::to_string(i) + "}"}});
  }
  items.push_back({"zzz", "v", {}});
  ASSERT_THAT(client_->BulkPut(ns, items), IsOk());
  std::vector<std::string> seen;
  ListOptions options{.prefix = "user:", .limit = 100};
  int pages = 0;
  while (true) {
    absl::StatusOr<ListResult> page = client_->List(ns, options);
    ASSERT_THAT(page, IsOk());
    ++pages;
    for (const ListedKey& k : page->keys) seen.push_back(k.name);
    if (page->list_complete) {
      EXPECT_EQ(page->cursor, "");
      break;
    }
    options.cursor = page->cursor;
    options.limit = 37;  // a different limit for later pages is fine
  }
  ASSERT_THAT(seen, SizeIs(250));
  EXPECT_EQ(seen.front(), "user:0000");
  EXPECT_EQ(seen.back(), "user:0249");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(pages, 1 + (150 + 36) / 37);

  absl::StatusOr<ListResult> first = client_->List(ns, {.limit = 1});
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->keys[0].metadata, "{\"i\":0}");
  EXPECT_THAT(client_->List(ns, {.prefix = "other", .cursor = first->cursor}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Invalid cursor")));
  EXPECT_THAT(client_->List(ns, {.cursor = "garbage!"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Invalid cursor")));
  EXPECT_THAT(client_->List(ns, {.limit = 0}),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid key_count_limit of 0. Please specify an integer greater than 0."));
  EXPECT_THAT(client_->List(ns, {.limit = 1001}),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid key_count_limit of 1001. Please specify an integer less than 1000."));
  EXPECT_THAT(client_->List(ns, {.limit = 1000}), IsOk());
}

TEST_F(NodeApiTest, ResponsesCarryNodeIdAndAppliedSequence) {
  const std::string ns = NewNamespace();
  kv::v1::DeleteRequest del;
  del.set_namespace_id(ns);
  del.set_key("k");
  kv::v1::DeleteResponse first, second;
  grpc::ClientContext c1, c2;
  ASSERT_TRUE(stub_->Delete(&c1, del, &first).ok());
  ASSERT_TRUE(stub_->Delete(&c2, del, &second).ok());
  EXPECT_EQ(first.header().node_id(), "test-node");
  EXPECT_EQ(first.header().role(), kv::v1::NODE_ROLE_ORIGIN);
  EXPECT_EQ(second.header().applied_sequence(), first.header().applied_sequence() + 1);
}

TEST_F(NodeApiTest, ConcurrentWritersAllLandAndSurviveRestart) {
  const std::string ns = NewNamespace();
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        if (!client_->Put(ns, absl::StrCat("t", t, "-", i), absl::StrCat(i)).ok()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  RestartNode();
  for (int t = 0; t < 16; ++t) {
    for (int i = 0; i < 40; ++i) {
      ASSERT_THAT(client_->Get(ns, absl::StrCat("t", t, "-", i)),
                  IsOkAndHolds(Optional(absl::StrCat(i))));
    }
  }
}

TEST_F(NodeApiTest, ExportsRequestMetricsPerMethodAndStatus) {
  const std::string ns = NewNamespace();
  ASSERT_THAT(client_->Put(ns, "k", "v"), IsOk());
  ASSERT_THAT(client_->Get(ns, "k"), IsOk());
  EXPECT_THAT(client_->Get(ns, ""), StatusIs(StatusCode::kInvalidArgument));
  const std::string text = MetricsText();
  EXPECT_THAT(text, HasSubstr("kv_rpc_requests_total{code=\"OK\",method=\"Put\"} 1"));
  EXPECT_THAT(text, HasSubstr("kv_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Get\"} 1"));
  EXPECT_THAT(text, HasSubstr("kv_rpc_duration_seconds_bucket{code=\"OK\",method=\"Get\""));
  EXPECT_THAT(text, HasSubstr("kv_storage_applied_sequence 2"));
}

TEST_F(NodeApiTest, ReadsCompleteOnAnOtherwiseIdleConnection) {
  // Regression: the last message of a Get or BulkGet was sent with StartWriteLast, which
  // holds it until Finish, which the reactor only called after the write completed. A
  // lone client then waited until its deadline.
  const std::string ns = NewNamespace();
  ASSERT_THAT(client_->Put(ns, "k", "v"), IsOk());
  ASSERT_THAT(client_->Put(ns, "big", std::string(3 << 20, 'b')), IsOk());
  ClientOptions options;
  options.endpoint = node_->address();
  options.timeout = absl::Seconds(20);
  options.retry.max_attempts = 1;
  Client lone = Client::Connect(options);
  // A hang shows as DEADLINE_EXCEEDED.
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(lone.Get(ns, "k"), IsOkAndHolds(Optional(std::string("v"))));
    EXPECT_THAT(lone.Get(ns, "missing"), IsOkAndHolds(Eq(std::nullopt)));
    EXPECT_THAT(lone.Get(ns, "big"), IsOk());
    EXPECT_THAT(lone.BulkGet(ns, {"k", "big"}), IsOk());
  }
}

// Opens a Get of `key` on `stub` and reads its first message, which must find a value.
std::unique_ptr<grpc::ClientReader<kv::v1::GetResponse>> StartGet(kv::v1::KV::Stub& stub,
                                                                  grpc::ClientContext* context,
                                                                  const std::string& ns,
                                                                  const std::string& key) {
  kv::v1::GetRequest request;
  request.set_namespace_id(ns);
  request.set_key(key);
  std::unique_ptr<grpc::ClientReader<kv::v1::GetResponse>> reader = stub.Get(context, request);
  kv::v1::GetResponse first;
  EXPECT_TRUE(reader->Read(&first));
  EXPECT_TRUE(first.found());
  return reader;
}

// Reads what is left of a Get and returns its status.
grpc::Status DrainGet(grpc::ClientReader<kv::v1::GetResponse>* reader) {
  kv::v1::GetResponse message;
  while (reader->Read(&message)) {
  }
  return reader->Finish();
}

TEST_F(NodeApiTest, AGetAbandonedMidValueIsCountedAndTheNodeServesOn) {
  const std::string ns = NewNamespace();
  // Far more than gRPC's flow-control windows: the node is still sending when the
  // client goes.
  const std::string big(kMaxValueBytes, 'b');
  ASSERT_THAT(client_->Put(ns, "big", big), IsOk());
  {
    grpc::ClientContext context;
    auto reader = StartGet(*stub_, &context, ns, "big");
    context.TryCancel();
    EXPECT_EQ(DrainGet(reader.get()).error_code(), grpc::StatusCode::CANCELLED);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (MetricsText().find("kv_rpc_requests_total{code=\"CANCELLED\",method=\"Get\"} 1") ==
             std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_THAT(MetricsText(),
              HasSubstr("kv_rpc_requests_total{code=\"CANCELLED\",method=\"Get\"} 1"));
  absl::StatusOr<std::optional<std::string>> again = client_->Get(ns, "big");
  ASSERT_THAT(again, IsOk());
  ASSERT_TRUE(again->has_value());
  EXPECT_TRUE(**again == big);
}

TEST_F(NodeApiTest, ShutdownEndsAGetWhoseClientStoppedReading) {
  configure_ = [](node::NodeOptions& options) { options.shutdown_grace = absl::Milliseconds(100); };
  RestartNode();
  const std::string ns = NewNamespace();
  ASSERT_THAT(client_->Put(ns, "big", std::string(kMaxValueBytes, 'b')), IsOk());
  grpc::ClientContext context;
  auto reader = StartGet(*stub_, &context, ns, "big");
  // The client reads no further, so the node's next write waits on flow control until
  // the grace period ends and the call is cancelled.
  std::future<void> stopped = std::async(std::launch::async, [this] { node_->Shutdown(); });
  if (stopped.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    // The future's destructor would wait for it forever.
    std::fprintf(stderr, "FAILED: Node::Shutdown() did not return within 60 s\n");
    std::abort();
  }
  EXPECT_FALSE(DrainGet(reader.get()).ok());
}

TEST_F(NodeApiTest, ServesTheStandardHealthService) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext ctx;
  ASSERT_TRUE(health->Check(&ctx, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace kv
