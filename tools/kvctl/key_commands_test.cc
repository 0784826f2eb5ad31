#include "tools/kvctl/key_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "client/mocks/mock_connection.h"
#include "tools/kvctl/namespace_commands.h"
#include "tools/kvctl/output_json.h"

namespace kv::kvctl {
namespace {

using ::kv::testing::MockConnection;
using ::testing::_;
using ::testing::AllOf;
using ::testing::Field;
using ::testing::Optional;
using ::testing::Return;
using ::testing::StrictMock;

constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

class CommandTest : public ::testing::Test {
 protected:
  CommandIo io() { return CommandIo{.out = &out_, .err = &err_, .in = &in_}; }

  std::shared_ptr<StrictMock<MockConnection>> mock_ =
      std::make_shared<StrictMock<MockConnection>>();
  Client client_{mock_};
  std::ostringstream out_;
  std::ostringstream err_;
  std::istringstream in_;
};

using PutKeyTest = CommandTest;

TEST_F(PutKeyTest, SendsValueAndOptions) {
  EXPECT_CALL(*mock_,
              Put(kNs, "k", "v",
                  AllOf(Field(&PutOptions::expiration_ttl, Optional(absl::Seconds(3600))),
                        Field(&PutOptions::expiration, Optional(absl::FromUnixSeconds(1900000000))),
                        // Re-serialised compactly: the 1024-byte limit counts the sent text.
                        Field(&PutOptions::metadata, Optional(std::string(R"({"a":[1,2]})"))))))
      .WillOnce(Return(absl::OkStatus()));
  PutKeyArgs args{.namespace_id = kNs,
                  .key = "k",
                  .value = "v",
                  .ttl_seconds = 3600,
                  .expiration_seconds = 1900000000,
                  .metadata = R"({ "a": [1, 2] })"};
  EXPECT_EQ(PutKeyCommand(client_, args, io()), kExitOk);
  EXPECT_EQ(out_.str(), "{\n  \"success\": true\n}\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(PutKeyTest, SendsAnEmptyValue) {
  EXPECT_CALL(*mock_, Put(kNs, "k", "", _)).WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(PutKeyCommand(client_, {.namespace_id = kNs, .key = "k", .value = ""}, io()), kExitOk);
}

TEST_F(PutKeyTest, PassesInvalidMetadataThroughForTheSdkToReport) {
  EXPECT_CALL(*mock_, Put(kNs, "k", "v", Field(&PutOptions::metadata, Optional(std::string("{x")))))
      .WillOnce(Return(absl::InvalidArgumentError("metadata must be valid json")));
  EXPECT_EQ(PutKeyCommand(client_,
                          {.namespace_id = kNs, .key = "k", .value = "v", .metadata = "{x"}, io()),
            kExitError);
  EXPECT_EQ(err_.str(), "kvctl: metadata must be valid json\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(PutKeyTest, ReadsThePathAsRawBytes) {
  const std::string path = ::testing::TempDir() + "/kvctl_put_value.bin";
  const std::string bytes("\x00\xff\r\n\x1a end", 9);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_CALL(*mock_, Put(kNs, "k", bytes, _)).WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(PutKeyCommand(client_, {.namespace_id = kNs, .key = "k", .path = path}, io()), kExitOk);
}

TEST_F(PutKeyTest, ReadsStdinForDash) {
  in_.str(std::string("from\0stdin", 10));
  EXPECT_CALL(*mock_, Put(kNs, "k", std::string("from\0stdin", 10), _))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(PutKeyCommand(client_, {.namespace_id = kNs, .key = "k", .path = "-"}, io()), kExitOk);
}

TEST_F(PutKeyTest, NeedsExactlyOneOfValueAndPath) {
  EXPECT_EQ(PutKeyCommand(client_, {.namespace_id = kNs, .key = "k"}, io()), kExitUsage);
  EXPECT_EQ(
      PutKeyCommand(client_, {.namespace_id = kNs, .key = "k", .value = "v", .path = "f"}, io()),
      kExitUsage);
  EXPECT_EQ(err_.str(),
            "kvctl: key put: give exactly one of VALUE or --path\n"
            "kvctl: key put: give exactly one of VALUE or --path\n");
}

TEST_F(PutKeyTest, ReportsAnUnreadablePathAsAUsageError) {
  const std::string path = ::testing::TempDir() + "/kvctl_no_such_file";
  EXPECT_EQ(PutKeyCommand(client_, {.namespace_id = kNs, .key = "k", .path = path}, io()),
            kExitUsage);
  EXPECT_EQ(err_.str(), "kvctl: cannot read \"" + path + "\": No such file or directory\n");
}

TEST_F(PutKeyTest, ReportsTheSdkMessageWithExitCode1) {
  EXPECT_CALL(*mock_, Put)
      .WillOnce(Return(
          absl::InvalidArgumentError("Value length of 26214401 exceeds limit of 26214400.")));
  EXPECT_EQ(PutKeyCommand(client_, {.namespace_id = kNs, .key = "k", .value = "v"}, io()),
            kExitError);
  EXPECT_EQ(err_.str(), "kvctl: Value length of 26214401 exceeds limit of 26214400.\n");
}

using GetKeyTest = CommandTest;

TEST_F(GetKeyTest, WritesTheRawValueWithNothingAdded) {
  const std::string bytes("\x00\xff\nx", 4);
  EXPECT_CALL(*mock_, Get(kNs, "k", false, _))
      .WillOnce(Return(std::optional<ValueWithMetadata>({.value = bytes})));
  EXPECT_EQ(GetKeyCommand(client_, {.namespace_id = kNs, .key = "k"}, io()), kExitOk);
  EXPECT_EQ(out_.str(), bytes);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(GetKeyTest, ExitsWith3WhenTheKeyIsMissing) {
  EXPECT_CALL(*mock_, Get(kNs, "k", false, _)).WillOnce(Return(std::nullopt));
  EXPECT_EQ(GetKeyCommand(client_, {.namespace_id = kNs, .key = "k"}, io()), kExitNotFound);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "Value not found\n");
}

TEST_F(GetKeyTest, ExitsWith3WhenTheKeyIsMissingWithMetadata) {
  EXPECT_CALL(*mock_, Get(kNs, "k", true, _)).WillOnce(Return(std::nullopt));
  EXPECT_EQ(GetKeyCommand(client_, {.namespace_id = kNs, .key = "k", .with_metadata = true}, io()),
            kExitNotFound);
  EXPECT_EQ(err_.str(), "Value not found\n");
}

TEST_F(GetKeyTest, PrintsValueMetadataAndExpirationAsJson) {
  EXPECT_CALL(*mock_, Get(kNs, "k", true, _))
      .WillOnce(Return(
          std::optional<ValueWithMetadata>({.value = std::string("\xff", 1),
                                            .metadata = R"({"a":1})",
                                            .expiration = absl::FromUnixSeconds(1900000000)})));
  EXPECT_EQ(GetKeyCommand(client_, {.namespace_id = kNs, .key = "k", .with_metadata = true}, io()),
            kExitOk);
  EXPECT_EQ(
      out_.str(),
      "{\n  \"value\": \"/w==\",\n  \"base64\": true,\n  \"metadata\": {\n    \"a\": 1\n  },\n"
      "  \"expiration\": 1900000000\n}\n");
}

TEST_F(GetKeyTest, ReportsNodeErrors) {
  EXPECT_CALL(*mock_, Get).WillOnce(Return(absl::NotFoundError("namespace not found")));
  EXPECT_EQ(GetKeyCommand(client_, {.namespace_id = kNs, .key = "k"}, io()), kExitError);
  EXPECT_EQ(err_.str(), "kvctl: namespace not found\n");
}

using DeleteKeyTest = CommandTest;

TEST_F(DeleteKeyTest, DeletesAndPrintsSuccess) {
  EXPECT_CALL(*mock_, Delete(kNs, "k")).WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(DeleteKeyCommand(client_, kNs, "k", io()), kExitOk);
  EXPECT_EQ(out_.str(), "{\n  \"success\": true\n}\n");
}

using ListKeysTest = CommandTest;

ListResult Page(std::vector<ListedKey> keys, std::string cursor) {
  ListResult page{.keys = std::move(keys), .list_complete = cursor.empty()};
  page.cursor = std::move(cursor);
  return page;
}

TEST_F(ListKeysTest, FollowsEveryPageIntoOneArray) {
  ::testing::InSequence seq;
  EXPECT_CALL(*mock_,
              List(kNs, AllOf(Field(&ListOptions::prefix, "p"), Field(&ListOptions::cursor, ""),
                              Field(&ListOptions::limit, std::nullopt))))
      .WillOnce(Return(Page({{.name = "pa"}, {.name = "pb", .metadata = "[1]"}}, "c1")));
  EXPECT_CALL(*mock_,
              List(kNs, AllOf(Field(&ListOptions::prefix, "p"), Field(&ListOptions::cursor, "c1"))))
      .WillOnce(
          Return(Page({{.name = "pc", .expiration = absl::FromUnixSeconds(1900000000)}}, "")));
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs, .prefix = "p"}, io()), kExitOk);
  EXPECT_EQ(
      Json::parse(out_.str()).dump(),
      R"([{"name":"pa"},{"name":"pb","metadata":[1]},{"name":"pc","expiration":1900000000}])");
}

TEST_F(ListKeysTest, PrintsAnEmptyArrayForAnEmptyNamespace) {
  EXPECT_CALL(*mock_, List).WillOnce(Return(Page({}, "")));
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs}, io()), kExitOk);
  EXPECT_EQ(out_.str(), "[]\n");
}

TEST_F(ListKeysTest, StopsOnAPageWithoutACursor) {
  ListResult broken{.keys = {{.name = "a"}}, .list_complete = false};
  EXPECT_CALL(*mock_, List).WillOnce(Return(broken));
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs}, io()), kExitError);
}

TEST_F(ListKeysTest, PrintsOnePageWithItsCursorWhenGivenALimit) {
  EXPECT_CALL(*mock_, List(kNs, Field(&ListOptions::limit, Optional(2))))
      .WillOnce(Return(Page({{.name = "a"}, {.name = "b"}}, "next")));
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs, .limit = 2}, io()), kExitOk);
  EXPECT_EQ(Json::parse(out_.str()).dump(),
            R"({"keys":[{"name":"a"},{"name":"b"}],"list_complete":false,"cursor":"next"})");
}

TEST_F(ListKeysTest, OmitsTheCursorOfTheLastPage) {
  EXPECT_CALL(*mock_, List(kNs, Field(&ListOptions::cursor, "c1"))).WillOnce(Return(Page({}, "")));
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs, .cursor = "c1"}, io()), kExitOk);
  EXPECT_EQ(Json::parse(out_.str()).dump(), R"({"keys":[],"list_complete":true})");
}

TEST_F(ListKeysTest, RejectsALimitOutOfRangeWithTheNodesMessage) {
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs, .limit = 0}, io()), kExitError);
  EXPECT_EQ(ListKeysCommand(client_, {.namespace_id = kNs, .limit = 5000000000}, io()), kExitError);
  EXPECT_EQ(err_.str(),
            "kvctl: Invalid key_count_limit of 0. Please specify an integer greater than 0.\n"
            "kvctl: Invalid key_count_limit of 5000000000. Please specify an integer less than "
            "1000.\n");
}

using NamespaceCommandTest = CommandTest;

TEST_F(NamespaceCommandTest, CreatePrintsIdAndTitle) {
  EXPECT_CALL(*mock_, CreateNamespace("sessions")).WillOnce(Return(Namespace{kNs, "sessions"}));
  EXPECT_EQ(CreateNamespaceCommand(client_, "sessions", io()), kExitOk);
  EXPECT_EQ(out_.str(),
            std::string("{\n  \"id\": \"") + kNs + "\",\n  \"title\": \"sessions\"\n}\n");
}

TEST_F(NamespaceCommandTest, ListPrintsAnArray) {
  EXPECT_CALL(*mock_, ListNamespaces())
      .WillOnce(Return(std::vector<Namespace>{{kNs, "a"}, {"f", "b"}}));
  EXPECT_EQ(ListNamespacesCommand(client_, io()), kExitOk);
  EXPECT_EQ(Json::parse(out_.str()).dump(),
            std::string(R"([{"id":")") + kNs + R"(","title":"a"},{"id":"f","title":"b"}])");
}

TEST_F(NamespaceCommandTest, RenameReportsATakenTitle) {
  EXPECT_CALL(*mock_, RenameNamespace(kNs, "b"))
      .WillOnce(Return(
          absl::AlreadyExistsError("a namespace with this account ID and title already exists")));
  EXPECT_EQ(RenameNamespaceCommand(client_, kNs, "b", io()), kExitError);
  EXPECT_EQ(err_.str(), "kvctl: a namespace with this account ID and title already exists\n");
}

TEST_F(NamespaceCommandTest, DeleteConfirmsOnStderr) {
  EXPECT_CALL(*mock_, DeleteNamespace(kNs)).WillOnce(Return(absl::OkStatus()));
  EXPECT_EQ(DeleteNamespaceCommand(client_, kNs, io()), kExitOk);
  EXPECT_EQ(out_.str(), "{\n  \"success\": true\n}\n");
  EXPECT_EQ(err_.str(), std::string("Deleted namespace ") + kNs + " and all its keys.\n");
}

}  // namespace
}  // namespace kv::kvctl
