#include "tools/kvctl/bulk_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/mocks/mock_connection.h"
#include "common/limits.h"
#include "common/validation.h"
#include "tools/kvctl/output_json.h"

namespace kv::kvctl {
namespace {

using ::kv::testing::MockConnection;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Return;
using ::testing::SizeIs;
using ::testing::StrictMock;

constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

class BulkCommandTest : public ::testing::Test {
 protected:
  // Runs with `file` as the content of stdin ("-").
  CommandIo IoWithStdin(const std::string& file) {
    in_.str(file);
    return CommandIo{.out = &out_, .err = &err_, .in = &in_};
  }
  BulkArgs Args(bool with_metadata = false) {
    return BulkArgs{.namespace_id = kNs, .file = "-", .with_metadata = with_metadata};
  }
  Json Output() { return Json::parse(out_.str()); }

  std::shared_ptr<StrictMock<MockConnection>> mock_ =
      std::make_shared<StrictMock<MockConnection>>();
  Client client_{mock_};
  std::ostringstream out_;
  std::ostringstream err_;
  std::istringstream in_;
};

// A bulk put file of `n` items k0..k<n-1> with value "v".
std::string PutFile(int n) {
  Json items = Json::array();
  for (int i = 0; i < n; ++i) items.push_back({{"key", "k" + std::to_string(i)}, {"value", "v"}});
  return items.dump();
}

BulkPutResult AllWritten(const std::vector<BulkPutItem>& items) {
  return BulkPutResult{.successful_key_count = static_cast<int64_t>(items.size())};
}

using BulkPutTest = BulkCommandTest;

TEST_F(BulkPutTest, WritesTheItemsAndPrintsTheCount) {
  EXPECT_CALL(*mock_, BulkPut(kNs, SizeIs(2)))
      .WillOnce(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
        EXPECT_EQ(items[0].key, "a");
        EXPECT_EQ(items[1].value, std::string("\x00\x01", 2));
        EXPECT_EQ(items[1].options.expiration_ttl, absl::Seconds(60));
        return AllWritten(items);
      }));
  const std::string file =
      R"([{"key": "a", "value": "1"},
          {"key": "b", "value": "AAE=", "base64": true, "expiration_ttl": 60}])";
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(file)), kExitOk);
  EXPECT_EQ(Output().dump(), R"({"successful_key_count":2,"unsuccessful_keys":[]})");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(BulkPutTest, SendsExactlyTheItemLimitInOneRequest) {
  EXPECT_CALL(*mock_, BulkPut(kNs, SizeIs(kMaxBulkWriteItems)))
      .WillOnce(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
        return AllWritten(items);
      }));
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(PutFile(kMaxBulkWriteItems))), kExitOk);
  EXPECT_EQ(Output()["successful_key_count"], kMaxBulkWriteItems);
}

TEST_F(BulkPutTest, SplitsOneItemPastTheLimitIntoTwoRequests) {
  ::testing::InSequence seq;
  EXPECT_CALL(*mock_, BulkPut(kNs, SizeIs(kMaxBulkWriteItems)))
      .WillOnce(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
        return AllWritten(items);
      }));
  EXPECT_CALL(*mock_, BulkPut(kNs, ElementsAre(::testing::Field(&BulkPutItem::key, "k10000"))))
      .WillOnce(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
        return AllWritten(items);
      }));
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(PutFile(kMaxBulkWriteItems + 1))), kExitOk);
  EXPECT_EQ(Output()["successful_key_count"], kMaxBulkWriteItems + 1);
}

TEST_F(BulkPutTest, ReportsFailedKeysAndExits1) {
  EXPECT_CALL(*mock_, BulkPut(kNs, SizeIs(2)))
      .WillOnce(Return(BulkPutResult{
          .successful_key_count = 1,
          .unsuccessful_keys = {{"b",
                                 "Invalid expiration_ttl of 5. Expiration TTL must be at "
                                 "least 60."}}}));
  const std::string file =
      R"([{"key": "a", "value": "1"}, {"key": "b", "value": "2", "expiration_ttl": 5}])";
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(file)), kExitError);
  EXPECT_EQ(Output().dump(),
            R"({"successful_key_count":1,"unsuccessful_keys":[{"key":"b","error":"Invalid )"
            R"(expiration_ttl of 5. Expiration TTL must be at least 60."}]})");
  EXPECT_EQ(err_.str(), "kvctl: bulk put: 1 of 2 keys failed; see \"unsuccessful_keys\"\n");
}

TEST_F(BulkPutTest, ReportsUnwritableItemsWithoutSendingThem) {
  EXPECT_CALL(*mock_, BulkPut(kNs, ElementsAre(::testing::Field(&BulkPutItem::key, "ok"))))
      .WillOnce(Return(BulkPutResult{.successful_key_count = 1}));
  const std::string big_metadata(kMaxMetadataBytes, 'm');
  const std::string file = R"([{"key": "", "value": "1"}, {"key": "ok", "value": "2"},
                               {"key": "m", "value": "3", "metadata": ")" +
                           big_metadata + R"("}])";
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(file)), kExitError);
  EXPECT_EQ(Output().dump(),
            R"({"successful_key_count":1,"unsuccessful_keys":[)"
            R"({"key":"","error":"Key names must not be empty"},)"
            R"({"key":"m","error":"Metadata length of 1026 exceeds limit of 1024."}]})");
}

TEST_F(BulkPutTest, NeverSendsAValueOverTheLimit) {
  // A value over 25 MiB is refused per key by the node anyway; values over 100 MiB would not
  // even fit a request.
  const std::string value(kMaxValueBytes + 1, 'x');
  const std::string file = R"([{"key": "big", "value": ")" + value + R"("}])";
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(file)), kExitError);
  EXPECT_EQ(Output()["unsuccessful_keys"][0]["error"],
            "Value length of 26214401 exceeds limit of 26214400.");
}

TEST_F(BulkPutTest, SendsNothingForABadFile) {
  const std::string file = R"([{"key": "a", "value": "1"}, {"key": "b", "value": 2}])";
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(file)), kExitUsage);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "kvctl: bulk put: item 1: \"value\" must be a string\n");
}

TEST_F(BulkPutTest, PrintsWarningsForUnknownFields) {
  EXPECT_CALL(*mock_, BulkPut).WillOnce(Return(BulkPutResult{.successful_key_count = 1}));
  EXPECT_EQ(
      BulkPutCommand(client_, Args(), IoWithStdin(R"([{"key": "a", "value": "1", "ttl": 60}])")),
      kExitOk);
  EXPECT_EQ(err_.str(), "kvctl: warning: bulk put: item 0: ignoring unknown field \"ttl\"\n");
}

TEST_F(BulkPutTest, PrintsZeroForAnEmptyFileWithoutCallingTheNode) {
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin("[]")), kExitOk);
  EXPECT_EQ(Output().dump(), R"({"successful_key_count":0,"unsuccessful_keys":[]})");
}

TEST_F(BulkPutTest, StopsAtAFailedRequestAndSaysWhatWasWritten) {
  ::testing::InSequence seq;
  EXPECT_CALL(*mock_, BulkPut)
      .WillOnce(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
        return AllWritten(items);
      }));
  EXPECT_CALL(*mock_, BulkPut).WillOnce(Return(absl::UnavailableError("origin unreachable")));
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(PutFile(kMaxBulkWriteItems + 5))),
            kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "kvctl: origin unreachable\n"
            "kvctl: bulk put: stopped after 10000 of 10005 keys; the requests before the failure "
            "were applied\n");
}

TEST_F(BulkPutTest, ReportsAMissingNamespace) {
  EXPECT_CALL(*mock_, BulkPut).WillOnce(Return(absl::NotFoundError("namespace not found")));
  EXPECT_EQ(BulkPutCommand(client_, Args(), IoWithStdin(PutFile(3))), kExitError);
  EXPECT_EQ(err_.str(), "kvctl: namespace not found\n");
}

TEST_F(BulkPutTest, ReadsAFile) {
  const std::string path = ::testing::TempDir() + "/kvctl_bulk_put.json";
  std::ofstream(path) << PutFile(3);
  EXPECT_CALL(*mock_, BulkPut(kNs, SizeIs(3)))
      .WillOnce(Return(BulkPutResult{.successful_key_count = 3}));
  BulkArgs args = Args();
  args.file = path;
  EXPECT_EQ(BulkPutCommand(client_, args, IoWithStdin("")), kExitOk);
}

TEST_F(BulkPutTest, ReportsAMissingFileAsAUsageError) {
  BulkArgs args = Args();
  args.file = ::testing::TempDir() + "/kvctl_no_such.json";
  EXPECT_EQ(BulkPutCommand(client_, args, IoWithStdin("")), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("No such file or directory"));
}

TEST_F(BulkPutTest, DrawsProgressOnlyForJobsOfSeveralRequests) {
  std::ostringstream progress;
  EXPECT_CALL(*mock_, BulkPut)
      .WillRepeatedly(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
        return AllWritten(items);
      }));
  CommandIo io = IoWithStdin(PutFile(10));
  io.progress = &progress;
  EXPECT_EQ(BulkPutCommand(client_, Args(), io), kExitOk);
  EXPECT_EQ(progress.str(), "");

  io = IoWithStdin(PutFile(kMaxBulkWriteItems + 1));
  io.progress = &progress;
  EXPECT_EQ(BulkPutCommand(client_, Args(), io), kExitOk);
  EXPECT_THAT(progress.str(), HasSubstr("bulk put ["));
  EXPECT_THAT(progress.str(), HasSubstr("10001/10001 100%"));
}

using BulkGetTest = BulkCommandTest;

BulkGetResult Found(const std::vector<std::string>& keys) {
  BulkGetResult result;
  for (const std::string& key : keys) result[key] = ValueWithMetadata{.value = "v-" + key};
  return result;
}

TEST_F(BulkGetTest, PrintsValuesInFileOrderWithNullForMissingKeys) {
  BulkGetResult result;
  result["b"] = ValueWithMetadata{.value = "text"};
  result["a"] = ValueWithMetadata{.value = std::string("\xff\x00", 2)};
  result["c"] = std::nullopt;
  EXPECT_CALL(*mock_, BulkGet(kNs, ElementsAre("b", "a", "c"), _)).WillOnce(Return(result));
  EXPECT_EQ(BulkGetCommand(client_, Args(), IoWithStdin(R"(["b", "a", "c", "b"])")), kExitOk);
  EXPECT_EQ(Output().dump(), R"({"b":"text","a":{"base64":"/wA="},"c":null})");
}

TEST_F(BulkGetTest, PrintsMetadataWhenAsked) {
  BulkGetResult result;
  result["a"] = ValueWithMetadata{.value = "1", .metadata = R"({"x":true})"};
  result["b"] = std::nullopt;
  EXPECT_CALL(*mock_, BulkGet(kNs, ElementsAre("a", "b"),
                              ::testing::Field(&BulkGetOptions::with_metadata, true)))
      .WillOnce(Return(result));
  EXPECT_EQ(BulkGetCommand(client_, Args(/*with_metadata=*/true), IoWithStdin(R"(["a", "b"])")),
            kExitOk);
  EXPECT_EQ(Output().dump(), R"({"a":{"value":"1","metadata":{"x":true}},"b":null})");
}

TEST_F(BulkGetTest, AsksForAtMost100KeysARequest) {
  Json keys = Json::array();
  for (int i = 0; i < 150; ++i) keys.push_back("k" + std::to_string(i));
  ::testing::InSequence seq;
  EXPECT_CALL(*mock_, BulkGet(kNs, SizeIs(100), _))
      .WillOnce(Invoke([](const std::string&, const std::vector<std::string>& k,
                          const BulkGetOptions&) { return Found(k); }));
  EXPECT_CALL(*mock_, BulkGet(kNs, SizeIs(50), _))
      .WillOnce(Invoke([](const std::string&, const std::vector<std::string>& k,
                          const BulkGetOptions&) { return Found(k); }));
  EXPECT_EQ(BulkGetCommand(client_, Args(), IoWithStdin(keys.dump())), kExitOk);
  const Json out = Output();
  EXPECT_EQ(out.size(), 150u);
  EXPECT_EQ(out["k149"], "v-k149");
  EXPECT_EQ(out.begin().key(), "k0");
}

TEST_F(BulkGetTest, HalvesARequestWhoseResponseIsTooLarge) {
  ::testing::InSequence seq;
  EXPECT_CALL(*mock_, BulkGet(kNs, ElementsAre("a", "b", "c"), _))
      .WillOnce(Return(BulkGetTooLargeError()));
  EXPECT_CALL(*mock_, BulkGet(kNs, ElementsAre("a"), _)).WillOnce(Return(BulkGetTooLargeError()));
  // Even alone the value is too big for a bulk response: read it with a plain get.
  EXPECT_CALL(*mock_, Get(kNs, "a", true, _))
      .WillOnce(Return(std::optional<ValueWithMetadata>({.value = "huge"})));
  EXPECT_CALL(*mock_, BulkGet(kNs, ElementsAre("b", "c"), _)).WillOnce(Return(Found({"b", "c"})));
  EXPECT_EQ(BulkGetCommand(client_, Args(), IoWithStdin(R"(["a", "b", "c"])")), kExitOk);
  EXPECT_EQ(Output().dump(), R"({"a":"huge","b":"v-b","c":"v-c"})");
}

TEST_F(BulkGetTest, ReportsOtherErrors) {
  EXPECT_CALL(*mock_, BulkGet).WillOnce(Return(absl::NotFoundError("namespace not found")));
  EXPECT_EQ(BulkGetCommand(client_, Args(), IoWithStdin(R"(["a"])")), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "kvctl: namespace not found\n");
}

TEST_F(BulkGetTest, RefusesABadFile) {
  EXPECT_EQ(BulkGetCommand(client_, Args(), IoWithStdin(R"(["a", ""])")), kExitUsage);
  EXPECT_EQ(err_.str(), "kvctl: bulk get: item 1: Key names must not be empty\n");
}

TEST_F(BulkGetTest, PrintsAnEmptyObjectForNoKeys) {
  EXPECT_EQ(BulkGetCommand(client_, Args(), IoWithStdin("[]")), kExitOk);
  EXPECT_EQ(out_.str(), "{}\n");
}

using BulkDeleteTest = BulkCommandTest;

TEST_F(BulkDeleteTest, DeletesKeysGivenAsStringsOrObjects) {
  EXPECT_CALL(*mock_, BulkDelete(kNs, ElementsAre("a", "b"))).WillOnce(Return(2));
  EXPECT_EQ(BulkDeleteCommand(client_, Args(), IoWithStdin(R"(["a", {"key": "b", "value": "x"}])")),
            kExitOk);
  EXPECT_EQ(Output().dump(), R"({"successful_key_count":2})");
}

TEST_F(BulkDeleteTest, DeletesAtMostTheItemLimitPerRequest) {
  Json keys = Json::array();
  for (int i = 0; i < kMaxBulkWriteItems + 1; ++i) keys.push_back("k" + std::to_string(i));
  ::testing::InSequence seq;
  EXPECT_CALL(*mock_, BulkDelete(kNs, SizeIs(kMaxBulkWriteItems))).WillOnce(Return(10000));
  EXPECT_CALL(*mock_, BulkDelete(kNs, ElementsAre("k10000"))).WillOnce(Return(1));
  EXPECT_EQ(BulkDeleteCommand(client_, Args(), IoWithStdin(keys.dump())), kExitOk);
  EXPECT_EQ(Output().dump(), R"({"successful_key_count":10001})");
}

TEST_F(BulkDeleteTest, RefusesABadFileBeforeDeletingAnything) {
  EXPECT_EQ(BulkDeleteCommand(client_, Args(), IoWithStdin(R"(["a", 5])")), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("kvctl: bulk delete: item 1: must be a key string"));
}

TEST_F(BulkDeleteTest, ReportsAFailedRequest) {
  EXPECT_CALL(*mock_, BulkDelete).WillOnce(Return(absl::NotFoundError("namespace not found")));
  EXPECT_EQ(BulkDeleteCommand(client_, Args(), IoWithStdin(R"(["a"])")), kExitError);
  EXPECT_EQ(err_.str(), "kvctl: namespace not found\n");
}

}  // namespace
}  // namespace kv::kvctl
