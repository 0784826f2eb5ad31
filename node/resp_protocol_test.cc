#include "node/resp_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kv::node {
namespace {

using ::testing::ElementsAre;

struct Parsed {
  RespParse result;
  size_t consumed = 0;
  std::vector<std::string> args;
  std::string error;
};

Parsed Parse(absl::string_view input) {
  Parsed p;
  std::vector<absl::string_view> args;
  p.result = ParseRespCommand(input, &p.consumed, &args, &p.error);
  for (absl::string_view a : args) p.args.emplace_back(a);
  return p;
}

TEST(RespProtocolTest, ParsesAnArrayOfBulkStringsAndReportsItsLength) {
  const std::string command = "*3\r\n$4\r\nHGET\r\n$2\r\nns\r\n$5\r\na\r\nb!\r\n";
  Parsed p = Parse(command + "*1\r\n$4\r\nPING\r\n");
  ASSERT_EQ(p.result, RespParse::kCommand) << p.error;
  EXPECT_EQ(p.consumed, command.size());
  EXPECT_THAT(p.args, ElementsAre("HGET", "ns", "a\r\nb!"));  // binary-safe
}

TEST(RespProtocolTest, EveryPrefixOfACommandIsIncomplete) {
  const std::string command = "*2\r\n$4\r\nPING\r\n$0\r\n\r\n";
  for (size_t n = 0; n < command.size(); ++n) {
    EXPECT_EQ(Parse(command.substr(0, n)).result, RespParse::kIncomplete) << "prefix " << n;
  }
  Parsed p = Parse(command);
  ASSERT_EQ(p.result, RespParse::kCommand);
  EXPECT_THAT(p.args, ElementsAre("PING", ""));
}

TEST(RespProtocolTest, ParsesInlineCommandsAndSkipsEmptyOnes) {
  Parsed p = Parse("  hget\tns   key \r\nrest");
  ASSERT_EQ(p.result, RespParse::kCommand);
  EXPECT_EQ(p.consumed, 18u);
  EXPECT_THAT(p.args, ElementsAre("hget", "ns", "key"));
  p = Parse("PING\n");  // a bare LF ends a line too (nc, telnet)
  ASSERT_EQ(p.result, RespParse::kCommand);
  EXPECT_THAT(p.args, ElementsAre("PING"));
  p = Parse("\r\n");
  EXPECT_EQ(p.result, RespParse::kEmpty);
  EXPECT_EQ(p.consumed, 2u);
  EXPECT_EQ(Parse("PIN").result, RespParse::kIncomplete);
  EXPECT_EQ(Parse("*0\r\n").result, RespParse::kEmpty);
}

TEST(RespProtocolTest, RefusesMalformedAndOversizedCommandsNamingTheLimit) {
  EXPECT_EQ(Parse("*x\r\n").result, RespParse::kError);
  EXPECT_EQ(Parse("*1\r\n+PING\r\n").result, RespParse::kError);
  EXPECT_EQ(Parse("*1\r\n$-1\r\n").result, RespParse::kError);
  EXPECT_EQ(Parse("*1\r\n$4\r\nPINGxx").result, RespParse::kError);  // no CRLF after the data
  EXPECT_EQ(Parse("*1\r\n$4x\r\nPING\r\n").result, RespParse::kError);

  Parsed p = Parse(absl::StrCat("*", kRespMaxArguments + 1, "\r\n"));
  ASSERT_EQ(p.result, RespParse::kError);
  EXPECT_THAT(p.error, ::testing::HasSubstr("at most 1024 arguments"));
  p = Parse(absl::StrCat("*1\r\n$", kRespMaxArgumentBytes + 1, "\r\n"));
  ASSERT_EQ(p.result, RespParse::kError);
  EXPECT_THAT(p.error, ::testing::HasSubstr("at most 65536 bytes"));
  // A length line that never ends is garbage, not a reason to buffer forever.
  EXPECT_EQ(Parse("*" + std::string(40, '1')).result, RespParse::kError);
  EXPECT_EQ(Parse("*1\r\n$" + std::string(40, '1')).result, RespParse::kError);
  p = Parse(std::string(kRespMaxInlineBytes + 1, 'a'));
  ASSERT_EQ(p.result, RespParse::kError);
  EXPECT_THAT(p.error, ::testing::HasSubstr("inline command longer than 65536 bytes"));
}

TEST(RespProtocolTest, EncodesReplies) {
  std::string out;
  AppendSimpleString("PONG", &out);
  AppendError("ERR two\r\nlines", &out);
  AppendInteger(-3, &out);
  AppendBulkString(std::string("a\0b", 3), &out);
  AppendNull(&out);
  AppendArrayHeader(2, &out);
  constexpr char kWant[] = "+PONG\r\n-ERR two  lines\r\n:-3\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n";
  EXPECT_EQ(out, std::string(kWant, sizeof(kWant) - 1));
}

}  // namespace
}  // namespace kv::node
