#include "storage/keys.h"

#include <gtest/gtest.h>

namespace kv::storage::keys {
namespace {

const std::string kNs = "0123456789abcdef0123456789abcdef";

TEST(KeysTest, DataKeysRoundTripAndOrderByUtf8Bytes) {
  const std::string a = Data(kNs, "a");
  const std::string b = Data(kNs, "b");
  const std::string e = Data(kNs, "\xC3\xA9");  // é sorts after ASCII
  EXPECT_LT(a, b);
  EXPECT_LT(b, e);
  absl::string_view ns, key;
  ASSERT_TRUE(DecodeData(e, &ns, &key));
  EXPECT_EQ(ns, kNs);
  EXPECT_EQ(key, "\xC3\xA9");
}

TEST(KeysTest, KeysOfOneNamespaceAreContiguous) {
  const std::string other = "fedcba9876543210fedcba9876543210";
  const std::string prefix = DataPrefix(kNs, "");
  const std::string last_of_ns = Data(kNs, std::string(512, '\xff'));
  EXPECT_EQ(last_of_ns.compare(0, prefix.size(), prefix), 0);
  EXPECT_LT(last_of_ns, Data(other, ""));
  EXPECT_LT(last_of_ns, PrefixSuccessor(prefix));
}

TEST(KeysTest, EmbeddedNulAndHighBytesSurviveEncoding) {
  const std::string key("a\0b\xff", 4);
  const std::string encoded = Data(kNs, key);
  absl::string_view ns, decoded;
  ASSERT_TRUE(DecodeData(encoded, &ns, &decoded));
  EXPECT_EQ(decoded, key);
}

TEST(KeysTest, ChunksOrderByIndex) {
  EXPECT_LT(Chunk(7, 1), Chunk(7, 2));
  EXPECT_LT(Chunk(7, 255), Chunk(7, 256));
  EXPECT_LT(Chunk(7, 0xffffffff), Chunk(8, 0));
  uint64_t id;
  uint32_t index;
  ASSERT_TRUE(DecodeChunk(Chunk(42, 9), &id, &index));
  EXPECT_EQ(id, 42u);
  EXPECT_EQ(index, 9u);
}

TEST(KeysTest, ExpiryKeysOrderByTime) {
  EXPECT_LT(Expiry(100, kNs, "z"), Expiry(101, kNs, "a"));
  EXPECT_LT(Expiry(255, kNs, "z"), Expiry(256, kNs, "a"));
  int64_t e;
  absl::string_view ns, key;
  const std::string encoded = Expiry(1'800'000'000, kNs, "k");
  ASSERT_TRUE(DecodeExpiry(encoded, &e, &ns, &key));
  EXPECT_EQ(e, 1'800'000'000);
  EXPECT_EQ(ns, kNs);
  EXPECT_EQ(key, "k");
}

TEST(KeysTest, DecodersRejectOtherKinds) {
  absl::string_view ns, key;
  EXPECT_FALSE(DecodeData(Namespace(kNs), &ns, &key));
  EXPECT_FALSE(DecodeData("d123", &ns, &key));
  uint64_t id;
  uint32_t index;
  EXPECT_FALSE(DecodeChunk(Upload(1), &id, &index));
  EXPECT_FALSE(DecodeUpload(Chunk(1, 1), &id));
}

TEST(KeysTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace kv::storage::keys
