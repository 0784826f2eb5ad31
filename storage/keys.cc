#include "storage/keys.h"

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/limits.h"

namespace kv::storage::keys {

std::string Meta(absl::string_view name) { return absl::StrCat(std::string(1, kMetaTag), name); }

std::string Namespace(absl::string_view ns_id) {
  return absl::StrCat(std::string(1, kNamespaceTag), ns_id);
}

std::string Data(absl::string_view ns_id, absl::string_view key) {
  return absl::StrCat(std::string(1, kDataTag), ns_id, key);
}

std::string DataPrefix(absl::string_view ns_id, absl::string_view prefix) {
  return Data(ns_id, prefix);
}

std::string Chunk(uint64_t blob_id, uint32_t index) {
  std::string out = ChunkPrefix(blob_id);
  PutFixed32BE(&out, index);
  return out;
}

std::string ChunkPrefix(uint64_t blob_id) {
  std::string out(1, kChunkTag);
  PutFixed64BE(&out, blob_id);
  return out;
}

std::string Expiry(int64_t expiration, absl::string_view ns_id, absl::string_view key) {
  std::string out(1, kExpiryTag);
  PutFixed64BE(&out, static_cast<uint64_t>(expiration));
  absl::StrAppend(&out, ns_id, key);
  return out;
}

std::string Upload(uint64_t blob_id) {
  std::string out(1, kUploadTag);
  PutFixed64BE(&out, blob_id);
  return out;
}

std::string Log(uint64_t sequence) {
  std::string out(1, kLogTag);
  PutFixed64BE(&out, sequence);
  return out;
}

std::string Tombstone(uint64_t hlc, absl::string_view ns_id, absl::string_view key) {
  std::string out(1, kTombstoneTag);
  PutFixed64BE(&out, hlc);
  absl::StrAppend(&out, ns_id, key);
  return out;
}

bool DecodeNamespace(absl::string_view encoded, absl::string_view* ns_id) {
  if (encoded.size() != 1 + kNamespaceIdLength || encoded[0] != kNamespaceTag) return false;
  *ns_id = encoded.substr(1);
  return true;
}

bool DecodeData(absl::string_view encoded, absl::string_view* ns_id, absl::string_view* key) {
  if (encoded.size() < 1 + kNamespaceIdLength || encoded[0] != kDataTag) return false;
  *ns_id = encoded.substr(1, kNamespaceIdLength);
  *key = encoded.substr(1 + kNamespaceIdLength);
  return true;
}

bool DecodeChunk(absl::string_view encoded, uint64_t* blob_id, uint32_t* index) {
  if (encoded.size() != 13 || encoded[0] != kChunkTag) return false;
  encoded.remove_prefix(1);
  return GetFixed64BE(&encoded, blob_id) && GetFixed32BE(&encoded, index);
}

bool DecodeExpiry(absl::string_view encoded, int64_t* expiration, absl::string_view* ns_id,
                  absl::string_view* key) {
  if (encoded.size() < 9 + kNamespaceIdLength || encoded[0] != kExpiryTag) return false;
  encoded.remove_prefix(1);
  uint64_t e;
  if (!GetFixed64BE(&encoded, &e)) return false;
  *expiration = static_cast<int64_t>(e);
  *ns_id = encoded.substr(0, kNamespaceIdLength);
  *key = encoded.substr(kNamespaceIdLength);
  return true;
}

bool DecodeUpload(absl::string_view encoded, uint64_t* blob_id) {
  if (encoded.size() != 9 || encoded[0] != kUploadTag) return false;
  encoded.remove_prefix(1);
  return GetFixed64BE(&encoded, blob_id);
}

bool DecodeLog(absl::string_view encoded, uint64_t* sequence) {
  if (encoded.size() != 9 || encoded[0] != kLogTag) return false;
  encoded.remove_prefix(1);
  return GetFixed64BE(&encoded, sequence);
}

bool DecodeTombstone(absl::string_view encoded, uint64_t* hlc, absl::string_view* ns_id,
                     absl::string_view* key) {
  if (encoded.size() < 9 + kNamespaceIdLength || encoded[0] != kTombstoneTag) return false;
  encoded.remove_prefix(1);
  if (!GetFixed64BE(&encoded, hlc)) return false;
  *ns_id = encoded.substr(0, kNamespaceIdLength);
  *key = encoded.substr(kNamespaceIdLength);
  return true;
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace kv::storage::keys
