#include "common/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "common/limits.h"
#include "common/testing/status_matchers.h"

namespace kv {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(ValidateKeyTest, RejectsEmptyKey) {
  EXPECT_THAT(ValidateKey(""),
              StatusIs(StatusCode::kInvalidArgument, "Key names must not be empty"));
}

TEST(ValidateKeyTest, RejectsDotAndDotDot) {
  EXPECT_THAT(ValidateKey("."), StatusIs(StatusCode::kInvalidArgument,
                                         "Illegal key name \".\". Please use a different name."));
  EXPECT_THAT(ValidateKey(".."),
              StatusIs(StatusCode::kInvalidArgument,
                       "Illegal key name \"..\". Please use a different name."));
  EXPECT_THAT(ValidateKey("..."), IsOk());
  EXPECT_THAT(ValidateKey("./"), IsOk());
}

TEST(ValidateKeyTest, AcceptsExactly512BytesAndRejects513) {
  EXPECT_THAT(ValidateKey(std::string(512, 'k')), IsOk());
  EXPECT_THAT(ValidateKey(std::string(513, 'k')),
              StatusIs(StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 513 exceeds key length limit of 512."));
}

TEST(ValidateKeyTest, MeasuresLengthInUtf8Bytes) {
  std::string key;
  for (int i = 0; i < 128; ++i) key += "\xF0\x9F\x98\x80";  // 128 x 4-byte emoji = 512 bytes
  EXPECT_THAT(ValidateKey(key), IsOk());
  key += "\xC3\xA9";  // + 2 bytes
  EXPECT_THAT(ValidateKey(key),
              StatusIs(StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 514 exceeds key length limit of 512."));
}

TEST(ValidateKeyTest, RejectsInvalidUtf8) {
  EXPECT_THAT(ValidateKey("a\xff"), StatusIs(StatusCode::kInvalidArgument,
                                             "Key names must be valid UTF-8"));
  EXPECT_THAT(ValidateKey("\xC0\xAF"), StatusIs(StatusCode::kInvalidArgument));  // overlong
  EXPECT_THAT(ValidateKey("\xED\xA0\x80"), StatusIs(StatusCode::kInvalidArgument));  // surrogate
  EXPECT_THAT(ValidateKey("\xF4\x90\x80\x80"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKey("\xE2\x82"), StatusIs(StatusCode::kInvalidArgument));  // truncated
  EXPECT_THAT(ValidateKey(std::string("a\0b", 3)), IsOk());  // NUL is a valid code point
  EXPECT_THAT(ValidateKey("\xF4\x8F\xBF\xBF"), IsOk());        // U+10FFFF
}

TEST(ValidatePrefixTest, AllowsEmptyAndLimitsLength) {
  EXPECT_THAT(ValidatePrefix(""), IsOk());
  EXPECT_THAT(ValidatePrefix(std::string(512, 'p')), IsOk());
  EXPECT_THAT(ValidatePrefix(std::string(513, 'p')),
              StatusIs(StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 513 exceeds key length limit of 512."));
  EXPECT_THAT(ValidatePrefix("\xff"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ValidateValueSizeTest, AcceptsExactly25MiBAndRejectsOneMore) {
  EXPECT_THAT(ValidateValueSize(0), IsOk());
  EXPECT_THAT(ValidateValueSize(26214400), IsOk());
  EXPECT_THAT(ValidateValueSize(26214401),
              StatusIs(StatusCode::kInvalidArgument,
                       "Value length of 26214401 exceeds limit of 26214400."));
}

TEST(ValidateMetadataTest, AcceptsEveryJsonType) {
  for (const char* json : {"{}", "{\"a\":[1,2,{\"b\":null}]}", "[]", "\"text\"", "42", "-1.5e3",
                           "true", "false", "null", " { \"spaced\" : 1 } "}) {
    EXPECT_THAT(ValidateMetadata(json), IsOk()) << json;
  }
}

TEST(ValidateMetadataTest, RejectsInvalidJson) {
  for (const char* json : {"", "{", "{'a':1}", "undefined", "1 2", "[1,]", "\"\xff\""}) {
    EXPECT_THAT(ValidateMetadata(json),
                StatusIs(StatusCode::kInvalidArgument, "metadata must be valid json"))
        << json;
  }
}

TEST(ValidateMetadataTest, AcceptsExactly1024BytesAndRejects1025) {
  const std::string at_limit = "\"" + std::string(1022, 'm') + "\"";
  ASSERT_EQ(at_limit.size(), 1024u);
  EXPECT_THAT(ValidateMetadata(at_limit), IsOk());
  const std::string over = "\"" + std::string(1023, 'm') + "\"";
  EXPECT_THAT(ValidateMetadata(over), StatusIs(StatusCode::kInvalidArgument,
                                               "Metadata length of 1025 exceeds limit of 1024."));
}

TEST(ResolveExpirationTest, NoExpirationMeansNever) {
  EXPECT_THAT(ResolveExpiration(std::nullopt, std::nullopt, kNow), IsOkAndHolds(0));
}

TEST(ResolveExpirationTest, TtlBoundaries) {
  EXPECT_THAT(ResolveExpiration(std::nullopt, 0, kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of 0. Please specify integer greater than 0."));
  EXPECT_THAT(ResolveExpiration(std::nullopt, -5, kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of -5. Please specify integer greater than 0."));
  EXPECT_THAT(ResolveExpiration(std::nullopt, 59, kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."));
  EXPECT_THAT(ResolveExpiration(std::nullopt, 60, kNow), IsOkAndHolds(1'800'000'060));
}

TEST(ResolveExpirationTest, AbsoluteBoundaries) {
  EXPECT_THAT(ResolveExpiration(1'800'000'000, std::nullopt, kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration of 1800000000. Please specify integer greater than the "
                       "current number of seconds since the UNIX epoch."));
  EXPECT_THAT(ResolveExpiration(1'800'000'001, std::nullopt, kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration of 1800000001. Expiration times must be at least 60 "
                       "seconds in the future."));
  EXPECT_THAT(ResolveExpiration(1'800'000'059, std::nullopt, kNow),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveExpiration(1'800'000'060, std::nullopt, kNow), IsOkAndHolds(1'800'000'060));
}

TEST(ResolveExpirationTest, RefusesExpirationsPastTheYear9999WithoutOverflow) {
  // Regression: now + INT64_MAX overflowed into a negative expiration, so an
  // acknowledged put was never readable.
  EXPECT_THAT(ResolveExpiration(std::nullopt, std::numeric_limits<int64_t>::max(), kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of 9223372036854775807. Expiration must be before "
                       "the year 10000."));
  const int64_t max_ttl = kMaxExpirationSeconds - 1'800'000'000;
  EXPECT_THAT(ResolveExpiration(std::nullopt, max_ttl, kNow), IsOkAndHolds(kMaxExpirationSeconds));
  EXPECT_THAT(ResolveExpiration(std::nullopt, max_ttl + 1, kNow),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveExpiration(kMaxExpirationSeconds, std::nullopt, kNow),
              IsOkAndHolds(kMaxExpirationSeconds));
  EXPECT_THAT(ResolveExpiration(kMaxExpirationSeconds + 1, std::nullopt, kNow),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid expiration of 253402300800. Expiration must be before the year "
                       "10000."));
}

TEST(ResolveExpirationTest, SubsecondNowRoundsDown) {
  const absl::Time now = kNow + absl::Milliseconds(999);
  EXPECT_THAT(ResolveExpiration(1'800'000'060, std::nullopt, now), IsOkAndHolds(1'800'000'060));
}

TEST(ResolveExpirationTest, TtlWinsOverExpiration) {
  // The absolute expiration is invalid, but the TTL wins and is valid.
  EXPECT_THAT(ResolveExpiration(5, 120, kNow), IsOkAndHolds(1'800'000'120));
}

TEST(ResolveListLimitTest, Boundaries) {
  EXPECT_THAT(ResolveListLimit(std::nullopt), IsOkAndHolds(1000));
  EXPECT_THAT(ResolveListLimit(0),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid key_count_limit of 0. Please specify an integer greater than 0."));
  EXPECT_THAT(ResolveListLimit(1), IsOkAndHolds(1));
  EXPECT_THAT(ResolveListLimit(1000), IsOkAndHolds(1000));
  EXPECT_THAT(ResolveListLimit(1001),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid key_count_limit of 1001. Please specify an integer less than 1000."));
}

TEST(CacheTtlTest, MinimumIs30) {
  EXPECT_THAT(ValidateCacheTtl(std::nullopt), IsOk());
  EXPECT_THAT(ValidateCacheTtl(30), IsOk());
  EXPECT_THAT(ValidateCacheTtl(29), StatusIs(StatusCode::kInvalidArgument,
                                             "Invalid cache_ttl of 29. Cache TTL must be at least 30."));
}

TEST(BulkGetValidationTest, CountBoundaries) {
  EXPECT_THAT(ValidateBulkGetCount(0),
              StatusIs(StatusCode::kInvalidArgument, "You must request a minimum of 1 key"));
  EXPECT_THAT(ValidateBulkGetCount(1), IsOk());
  EXPECT_THAT(ValidateBulkGetCount(100), IsOk());
  EXPECT_THAT(ValidateBulkGetCount(101),
              StatusIs(StatusCode::kInvalidArgument, "You can request a maximum of 100 keys"));
}

TEST(BulkGetValidationTest, Types) {
  EXPECT_THAT(ParseBulkGetType(""), IsOkAndHolds(BulkGetType::kText));
  EXPECT_THAT(ParseBulkGetType("text"), IsOkAndHolds(BulkGetType::kText));
  EXPECT_THAT(ParseBulkGetType("json"), IsOkAndHolds(BulkGetType::kJson));
  EXPECT_THAT(ParseBulkGetType("arrayBuffer"),
              StatusIs(StatusCode::kInvalidArgument,
                       "\"arrayBuffer\" is not a valid type. Use \"json\" or \"text\""));
  EXPECT_THAT(BulkGetNonJsonError(),
              StatusIs(StatusCode::kInvalidArgument,
                       "At least one of the requested keys corresponds to a non-json value"));
  EXPECT_THAT(BulkGetTooLargeError(), StatusIs(StatusCode::kInvalidArgument,
                                               "Total size of request exceeds the limit of 25MB"));
}

TEST(BulkWriteValidationTest, CountBoundariesNameTheLimit) {
  EXPECT_THAT(ValidateBulkWriteCount(0, "write"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateBulkWriteCount(1, "write"), IsOk());
  EXPECT_THAT(ValidateBulkWriteCount(10000, "delete"), IsOk());
  EXPECT_THAT(ValidateBulkWriteCount(10001, "delete"),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("maximum of 10000")));
}

TEST(BulkWriteValidationTest, RequestSizeNamesTheLimit) {
  EXPECT_THAT(ValidateBulkRequestSize(kMaxBulkRequestBytes), IsOk());
  EXPECT_THAT(ValidateBulkRequestSize(kMaxBulkRequestBytes + 1),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("104857600")));
}

TEST(NamespaceValidationTest, Titles) {
  EXPECT_THAT(ValidateNamespaceTitle(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNamespaceTitle(std::string(512, 't')), IsOk());
  EXPECT_THAT(ValidateNamespaceTitle(std::string(513, 't')),
              StatusIs(StatusCode::kInvalidArgument,
                       "Namespace title length of 513 exceeds limit of 512."));
}

TEST(NamespaceValidationTest, Ids) {
  EXPECT_THAT(ValidateNamespaceId("0123456789abcdef0123456789abcdef"), IsOk());
  EXPECT_THAT(ValidateNamespaceId("0123456789ABCDEF0123456789abcdef"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNamespaceId("0123456789abcdef"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNamespaceId("\xff"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NamespaceNotFoundError(), StatusIs(StatusCode::kNotFound, "namespace not found"));
}

}  // namespace
}  // namespace kv
