#include "tools/kvctl/output_json.h"

#include <ostream>

#include "absl/strings/escaping.h"
#include "common/validation.h"

namespace kv::kvctl {

Json ValueToJson(absl::string_view value) {
  if (IsValidUtf8(value)) return Json(std::string(value));
  return Json{{"base64", absl::Base64Escape(value)}};
}

Json MetadataToJson(const std::optional<std::string>& metadata) {
  if (!metadata.has_value()) return nullptr;
  Json parsed = Json::parse(*metadata, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return ValueToJson(*metadata);
  return parsed;
}

Json ExpirationToJson(const std::optional<absl::Time>& expiration) {
  if (!expiration.has_value()) return nullptr;
  return absl::ToUnixSeconds(*expiration);
}

Json NamespaceToJson(const Namespace& ns) { return Json{{"id", ns.id}, {"title", ns.title}}; }

Json ListedKeyToJson(const ListedKey& key) {
  Json out = Json::object();
  out["name"] = key.name;
  if (key.expiration.has_value()) out["expiration"] = ExpirationToJson(key.expiration);
  if (key.metadata.has_value()) out["metadata"] = MetadataToJson(key.metadata);
  return out;
}

Json GetWithMetadataToJson(const ValueWithMetadata& value) {
  const bool utf8 = IsValidUtf8(value.value);
  Json out = Json::object();
  out["value"] = utf8 ? value.value : absl::Base64Escape(value.value);
  out["base64"] = !utf8;
  out["metadata"] = MetadataToJson(value.metadata);
  out["expiration"] = ExpirationToJson(value.expiration);
  return out;
}

Json BulkGetEntryToJson(const std::optional<ValueWithMetadata>& entry, bool with_metadata) {
  if (!entry.has_value()) return nullptr;
  if (!with_metadata) return ValueToJson(entry->value);
  Json out = Json::object();
  out["value"] = ValueToJson(entry->value);
  out["metadata"] = MetadataToJson(entry->metadata);
  return out;
}

void WriteJson(std::ostream& out, const Json& json) {
  out << json.dump(2, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace) << "\n";
  out.flush();
}

}  // namespace kv::kvctl
