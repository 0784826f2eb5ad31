#include "storage/record.h"

#include <gtest/gtest.h>

namespace kv::storage {
namespace {

TEST(RecordTest, InlineRecordRoundTrips) {
  RecordFields f;
  f.hlc = MakeHlc(1'700'000'000'000, 3);
  f.origin = "origin-1";
  f.expiration = 1'800'000'000;
  f.metadata = "{\"a\":1}";
  const std::string value("va\0lue", 6);
  f.inline_value = value;
  const std::string encoded = EncodeRecord(f);
  RecordView r;
  ASSERT_TRUE(DecodeRecord(encoded, &r));
  EXPECT_EQ(r.hlc, f.hlc);
  EXPECT_EQ(r.origin, "origin-1");
  EXPECT_FALSE(r.tombstone);
  EXPECT_EQ(r.expiration, 1'800'000'000);
  ASSERT_TRUE(r.metadata.has_value());
  EXPECT_EQ(*r.metadata, "{\"a\":1}");
  EXPECT_FALSE(r.blob.has_value());
  EXPECT_EQ(r.inline_value, f.inline_value);
  EXPECT_EQ(r.value_size(), 6);
}

TEST(RecordTest, EmptyValueAndAbsentMetadataAreDistinct) {
  RecordFields f;
  f.hlc = 1;
  RecordView r;
  const std::string plain = EncodeRecord(f);
  ASSERT_TRUE(DecodeRecord(plain, &r));
  EXPECT_EQ(r.inline_value, "");
  EXPECT_FALSE(r.metadata.has_value());
  EXPECT_EQ(r.expiration, 0);
  f.metadata = "null";
  const std::string with_metadata = EncodeRecord(f);
  ASSERT_TRUE(DecodeRecord(with_metadata, &r));
  ASSERT_TRUE(r.metadata.has_value());
  EXPECT_EQ(*r.metadata, "null");
}

TEST(RecordTest, BlobAndTombstoneRoundTrip) {
  RecordFields f;
  f.hlc = 9;
  f.blob = BlobRef{77, 3 * 1024 * 1024 + 5, 1024 * 1024};
  RecordView r;
  ASSERT_TRUE(DecodeRecord(EncodeRecord(f), &r));
  ASSERT_TRUE(r.blob.has_value());
  EXPECT_EQ(*r.blob, *f.blob);
  EXPECT_EQ(r.blob->chunk_count(), 4u);
  EXPECT_EQ(r.value_size(), 3 * 1024 * 1024 + 5);

  RecordFields t;
  t.hlc = 10;
  t.tombstone = true;
  ASSERT_TRUE(DecodeRecord(EncodeRecord(t), &r));
  EXPECT_TRUE(r.tombstone);
  EXPECT_FALSE(r.LiveAt(0));
}

TEST(RecordTest, LiveUntilExactlyTheExpirationSecond) {
  RecordFields f;
  f.expiration = 1000;
  RecordView r;
  ASSERT_TRUE(DecodeRecord(EncodeRecord(f), &r));
  EXPECT_TRUE(r.LiveAt(999));
  EXPECT_FALSE(r.LiveAt(1000));
  EXPECT_FALSE(r.LiveAt(1001));
}

TEST(RecordTest, RejectsCorruptBytes) {
  RecordView r;
  EXPECT_FALSE(DecodeRecord("", &r));
  EXPECT_FALSE(DecodeRecord("\x02\x00", &r));       // unknown format
  EXPECT_FALSE(DecodeRecord("\x01\x80", &r));       // unknown flag
  EXPECT_FALSE(DecodeRecord("\x01\x00\x01", &r));   // truncated timestamp
  RecordFields f;
  f.blob = BlobRef{1, 10, 4};
  std::string encoded = EncodeRecord(f);
  encoded.push_back('x');  // trailing bytes after a blob reference
  EXPECT_FALSE(DecodeRecord(encoded, &r));
}

TEST(RecordTest, LastWriterWinsOrdersByTimestampThenOrigin) {
  EXPECT_TRUE(Supersedes(2, "a", 1, "z"));
  EXPECT_FALSE(Supersedes(1, "z", 2, "a"));
  EXPECT_TRUE(Supersedes(5, "b", 5, "a"));
  EXPECT_FALSE(Supersedes(5, "a", 5, "a"));
}

TEST(RecordTest, NamespaceRecordRoundTrips) {
  NamespaceRecord n{MakeHlc(5, 1), "origin", true, "My Namespace"};
  NamespaceRecord out;
  ASSERT_TRUE(DecodeNamespaceRecord(EncodeNamespaceRecord(n), &out));
  EXPECT_EQ(out.hlc, n.hlc);
  EXPECT_EQ(out.origin, "origin");
  EXPECT_TRUE(out.tombstone);
  EXPECT_EQ(out.title, "My Namespace");
}

}  // namespace
}  // namespace kv::storage
