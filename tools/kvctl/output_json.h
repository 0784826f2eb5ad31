#ifndef KV_TOOLS_KVCTL_OUTPUT_JSON_H_
#define KV_TOOLS_KVCTL_OUTPUT_JSON_H_

// How kvctl renders SDK results as JSON. Objects keep the field order shown in the help
// (ordered_json). Values are bytes: they appear as JSON strings only when they are valid
// UTF-8, otherwise base64-encoded as the functions below say. All functions are pure.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/types.h"

namespace kv::kvctl {

using Json = nlohmann::ordered_json;

// Returns the value as a JSON string when it is valid UTF-8, else {"base64": "<base64>"}
// (the bulk get form).
Json ValueToJson(absl::string_view value);

// Returns stored metadata (JSON text) parsed, or null when absent. Text that does not
// parse (never stored by a node) is returned as a JSON string rather than lost.
Json MetadataToJson(const std::optional<std::string>& metadata);

// Returns the expiration in seconds since the UNIX epoch, or null for "never".
Json ExpirationToJson(const std::optional<absl::Time>& expiration);

// {"id", "title"}.
Json NamespaceToJson(const Namespace& ns);

// {"name", "expiration"?, "metadata"?}: absent fields are omitted, as Workers KV does.
Json ListedKeyToJson(const ListedKey& key);

// The `key get --with-metadata` object: {"value", "base64", "metadata", "expiration"}.
// "value" is the value itself when valid UTF-8 ("base64": false), else its base64 text
// ("base64": true).
Json GetWithMetadataToJson(const ValueWithMetadata& value);

// One bulk get result: null for a missing key; else ValueToJson(value), or with
// `with_metadata` {"value": ValueToJson(value), "metadata": MetadataToJson(...)}.
Json BulkGetEntryToJson(const std::optional<ValueWithMetadata>& entry, bool with_metadata);

// Writes `json` indented by two spaces plus a newline. Never throws on invalid UTF-8
// (such bytes become U+FFFD; values never reach here unencoded).
void WriteJson(std::ostream& out, const Json& json);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_OUTPUT_JSON_H_
