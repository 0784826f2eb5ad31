#include "node/list_cursor.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/coding.h"
#include "common/limits.h"

namespace kv::node {
namespace {

constexpr char kCursorVersion = 1;

// FNV-1a: stable across processes and builds, unlike absl::Hash.
uint64_t Fingerprint(absl::string_view ns_id, absl::string_view prefix) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](absl::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(ns_id);
  mix(absl::string_view("\0", 1));
  mix(prefix);
  return h;
}

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(std::string("Invalid cursor: ") + std::string(why));
}

}  // namespace

std::string EncodeListCursor(absl::string_view ns_id, absl::string_view prefix,
                             absl::string_view resume_after) {
  std::string raw(1, kCursorVersion);
  PutFixed64BE(&raw, Fingerprint(ns_id, prefix));
  raw.append(resume_after.data(), resume_after.size());
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodeListCursor(absl::string_view cursor, absl::string_view ns_id,
                                             absl::string_view prefix) {
  if (cursor.size() > 4 * (kMaxKeyBytes + 16)) return Invalid("it is too long");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(cursor, &raw)) return Invalid("it is not valid base64url");
  absl::string_view in = raw;
  uint64_t fingerprint;
  if (in.empty() || in[0] != kCursorVersion) return Invalid("unknown cursor version");
  in.remove_prefix(1);
  if (!GetFixed64BE(&in, &fingerprint)) return Invalid("it is truncated");
  if (fingerprint != Fingerprint(ns_id, prefix)) {
    return Invalid("it was issued for a different namespace or prefix");
  }
  if (!absl::StartsWith(in, prefix) || static_cast<int64_t>(in.size()) > kMaxKeyBytes) {
    return Invalid("its position is outside the prefix");
  }
  return std::string(in);
}

}  // namespace kv::node
