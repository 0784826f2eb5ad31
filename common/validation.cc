#include "common/validation.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"

namespace kv {
namespace {

absl::Status KeyTooLong(size_t n) {
  return absl::InvalidArgumentError(absl::StrCat("UTF-8 encoded length of ", n,
                                                 " exceeds key length limit of ",
                                                 kMaxKeyBytes, "."));
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int i = 1; i < len; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len]) return false;          // overlong
    if (cp > 0x10ffff) return false;                    // beyond Unicode
    if (cp >= 0xd800 && cp <= 0xdfff) return false;     // UTF-16 surrogate
    p += len;
  }
  return true;
}

bool IsValidJson(absl::string_view s) {
  return nlohmann::json::accept(s.begin(), s.end());
}

absl::Status ValidateKey(absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("Key names must not be empty");
  if (key == "." || key == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("Illegal key name \"", key, "\". Please use a different name."));
  }
  if (static_cast<int64_t>(key.size()) > kMaxKeyBytes) return KeyTooLong(key.size());
  if (!IsValidUtf8(key)) return absl::InvalidArgumentError("Key names must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidatePrefix(absl::string_view prefix) {
  if (static_cast<int64_t>(prefix.size()) > kMaxKeyBytes) return KeyTooLong(prefix.size());
  if (!IsValidUtf8(prefix)) return absl::InvalidArgumentError("Prefix must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidateValueSize(int64_t size) {
  if (size > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Value length of ", size, " exceeds limit of ", kMaxValueBytes, "."));
  }
  if (size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid value length of ", size, "."));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(absl::string_view json) {
  if (static_cast<int64_t>(json.size()) > kMaxMetadataBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Metadata length of ", json.size(), " exceeds limit of ", kMaxMetadataBytes, "."));
  }
  if (!IsValidJson(json)) return absl::InvalidArgumentError("metadata must be valid json");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ResolveExpiration(std::optional<int64_t> expiration,
                                          std::optional<int64_t> expiration_ttl,
                                          absl::Time now) {
  const int64_t now_s = absl::ToUnixSeconds(now);
  if (expiration_ttl.has_value()) {
    const int64_t ttl = *expiration_ttl;
    if (ttl <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid expiration_ttl of ", ttl, ". Please specify integer greater than 0."));
    }
    if (ttl < kMinExpirationTtlSeconds) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid expiration_ttl of ", ttl, ". Expiration TTL must be at least 60."));
    }
    if (ttl > kMaxExpirationSeconds - now_s) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid expiration_ttl of ", ttl, ". Expiration must be before the year 10000."));
    }
    return now_s + ttl;
  }
  if (expiration.has_value()) {
    const int64_t e = *expiration;
    if (e <= now_s) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid expiration of ", e,
                       ". Please specify integer greater than the current number of seconds "
                       "since the UNIX epoch."));
    }
    if (e < now_s + kMinExpirationTtlSeconds) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid expiration of ", e,
                       ". Expiration times must be at least 60 seconds in the future."));
    }
    if (e > kMaxExpirationSeconds) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid expiration of ", e, ". Expiration must be before the year 10000."));
    }
    return e;
  }
  return 0;
}

absl::StatusOr<int> ResolveListLimit(std::optional<int64_t> limit) {
  if (!limit.has_value()) return static_cast<int>(kDefaultListLimit);
  if (*limit < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid key_count_limit of ", *limit, ". Please specify an integer greater than 0."));
  }
  if (*limit > kMaxListLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid key_count_limit of ", *limit, ". Please specify an integer less than 1000."));
  }
  return static_cast<int>(*limit);
}

absl::Status ValidateCacheTtl(std::optional<int64_t> cache_ttl) {
  if (cache_ttl.has_value() && *cache_ttl < kMinCacheTtlSeconds) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid cache_ttl of ", *cache_ttl,
                                                   ". Cache TTL must be at least 30."));
  }
  return absl::OkStatus();
}

absl::Status ValidateBulkGetCount(int64_t count) {
  if (count > kMaxBulkGetKeys) {
    return absl::InvalidArgumentError("You can request a maximum of 100 keys");
  }
  if (count < 1) return absl::InvalidArgumentError("You must request a minimum of 1 key");
  return absl::OkStatus();
}

absl::StatusOr<BulkGetType> ParseBulkGetType(absl::string_view type) {
  if (type.empty() || type == "text") return BulkGetType::kText;
  if (type == "json") return BulkGetType::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", type, "\" is not a valid type. Use \"json\" or \"text\""));
}

absl::Status BulkGetNonJsonError() {
  return absl::InvalidArgumentError(
      "At least one of the requested keys corresponds to a non-json value");
}

absl::Status BulkGetTooLargeError() {
  return absl::InvalidArgumentError("Total size of request exceeds the limit of 25MB");
}

absl::Status ValidateBulkWriteCount(int64_t count, absl::string_view verb) {
  if (count > kMaxBulkWriteItems) {
    return absl::InvalidArgumentError(absl::StrCat("You can ", verb, " a maximum of ",
                                                   kMaxBulkWriteItems,
                                                   " keys in one bulk request; got ", count));
  }
  if (count < 1) {
    return absl::InvalidArgumentError(absl::StrCat("You must ", verb, " a minimum of 1 key"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBulkRequestSize(int64_t bytes) {
  if (bytes > kMaxBulkRequestBytes) {
    return absl::InvalidArgumentError(absl::StrCat("Bulk request size of ", bytes,
                                                   " bytes exceeds the limit of ",
                                                   kMaxBulkRequestBytes, " bytes (100 MiB)."));
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaceTitle(absl::string_view title) {
  if (title.empty()) return absl::InvalidArgumentError("Namespace title must not be empty");
  if (static_cast<int64_t>(title.size()) > kMaxNamespaceTitleBytes) {
    return absl::InvalidArgumentError(absl::StrCat("Namespace title length of ", title.size(),
                                                   " exceeds limit of ",
                                                   kMaxNamespaceTitleBytes, "."));
  }
  if (!IsValidUtf8(title)) {
    return absl::InvalidArgumentError("Namespace title must be valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaceId(absl::string_view id) {
  bool ok = id.size() == kNamespaceIdLength;
  for (char c : id) {
    ok = ok && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  }
  if (ok) return absl::OkStatus();
  std::string shown(id.substr(0, 64));
  if (!IsValidUtf8(shown)) shown = "<not UTF-8>";
  return absl::InvalidArgumentError(absl::StrCat(
      "Invalid namespace id \"", shown, "\": expected 32 lowercase hex characters"));
}

absl::Status NamespaceNotFoundError() { return absl::NotFoundError("namespace not found"); }

absl::Status NamespaceTitleTakenError() {
  return absl::AlreadyExistsError("a namespace with this account ID and title already exists");
}

}  // namespace kv
