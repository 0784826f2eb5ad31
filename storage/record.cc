#include "storage/record.h"

#include "common/coding.h"

namespace kv::storage {
namespace {

constexpr char kRecordFormat = 1;
constexpr uint8_t kTombstone = 1;
constexpr uint8_t kHasExpiration = 2;
constexpr uint8_t kHasMetadata = 4;
constexpr uint8_t kHasBlob = 8;
constexpr uint8_t kKnownFlags = kTombstone | kHasExpiration | kHasMetadata | kHasBlob;

}  // namespace

std::string EncodeRecord(const RecordFields& f) {
  uint8_t flags = 0;
  if (f.tombstone) flags |= kTombstone;
  if (f.expiration != 0) flags |= kHasExpiration;
  if (f.metadata) flags |= kHasMetadata;
  if (f.blob) flags |= kHasBlob;
  std::string out;
  out.reserve(32 + f.origin.size() + (f.metadata ? f.metadata->size() : 0) +
              f.inline_value.size());
  out.push_back(kRecordFormat);
  out.push_back(static_cast<char>(flags));
  PutFixed64BE(&out, f.hlc);
  PutLengthPrefixed(&out, f.origin);
  if (f.expiration != 0) PutVarint64(&out, static_cast<uint64_t>(f.expiration));
  if (f.metadata) PutLengthPrefixed(&out, *f.metadata);
  if (f.blob) {
    PutFixed64BE(&out, f.blob->id);
    PutVarint64(&out, static_cast<uint64_t>(f.blob->size));
    PutVarint64(&out, static_cast<uint64_t>(f.blob->chunk_bytes));
  } else {
    out.append(f.inline_value.data(), f.inline_value.size());
  }
  return out;
}

bool DecodeRecord(absl::string_view in, RecordView* out) {
  if (in.size() < 2 || in[0] != kRecordFormat) return false;
  const auto flags = static_cast<uint8_t>(in[1]);
  if ((flags & ~kKnownFlags) != 0) return false;
  in.remove_prefix(2);
  RecordView r;
  if (!GetFixed64BE(&in, &r.hlc) || !GetLengthPrefixed(&in, &r.origin)) return false;
  r.tombstone = flags & kTombstone;
  if (flags & kHasExpiration) {
    uint64_t e;
    if (!GetVarint64(&in, &e)) return false;
    r.expiration = static_cast<int64_t>(e);
  }
  if (flags & kHasMetadata) {
    absl::string_view m;
    if (!GetLengthPrefixed(&in, &m)) return false;
    r.metadata = m;
  }
  if (flags & kHasBlob) {
    BlobRef b;
    uint64_t size, chunk;
    if (!GetFixed64BE(&in, &b.id) || !GetVarint64(&in, &size) || !GetVarint64(&in, &chunk) ||
        !in.empty() || chunk == 0) {
      return false;
    }
    b.size = static_cast<int64_t>(size);
    b.chunk_bytes = static_cast<int64_t>(chunk);
    r.blob = b;
  } else {
    r.inline_value = in;
  }
  *out = r;
  return true;
}

std::string EncodeNamespaceRecord(const NamespaceRecord& record) {
  std::string out;
  out.push_back(kRecordFormat);
  out.push_back(record.tombstone ? kTombstone : 0);
  PutFixed64BE(&out, record.hlc);
  PutLengthPrefixed(&out, record.origin);
  PutLengthPrefixed(&out, record.title);
  return out;
}

bool DecodeNamespaceRecord(absl::string_view in, NamespaceRecord* out) {
  if (in.size() < 2 || in[0] != kRecordFormat) return false;
  const auto flags = static_cast<uint8_t>(in[1]);
  if ((flags & ~kTombstone) != 0) return false;
  in.remove_prefix(2);
  NamespaceRecord r;
  absl::string_view origin, title;
  if (!GetFixed64BE(&in, &r.hlc) || !GetLengthPrefixed(&in, &origin) ||
      !GetLengthPrefixed(&in, &title) || !in.empty()) {
    return false;
  }
  r.tombstone = flags & kTombstone;
  r.origin = std::string(origin);
  r.title = std::string(title);
  *out = std::move(r);
  return true;
}

}  // namespace kv::storage
