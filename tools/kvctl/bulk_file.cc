#include "tools/kvctl/bulk_file.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::kvctl {
namespace {

using nlohmann::json;

constexpr size_t kMaxWarnings = 10;

// Builds a json DOM like json::parse, but keeps the parser's error message without
// exceptions: sax_parse reports errors to parse_error() instead of throwing.
class DomBuilder {
 public:
  explicit DomBuilder(json* root) : dom_(*root, /*allow_exceptions_=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const std::string& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return dom_.start_object(n); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool end_object() { return dom_.end_object(); }
  bool start_array(std::size_t n) { return dom_.start_array(n); }
  bool end_array() { return dom_.end_array(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = e.what();
    // Drop the "[json.exception.parse_error.101] " tag: users need line and column.
    if (size_t end = error_.find("] ");
        !error_.empty() && error_[0] == '[' && end != std::string::npos) {
      error_.erase(0, end + 2);
    }
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::string error_;
};

absl::Status FileError(absl::string_view command, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(command, ": ", problem));
}

absl::Status ItemError(absl::string_view command, size_t index, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(command, ": item ", index, ": ", problem));
}

// Parses `text` as one JSON array.
absl::StatusOr<json> ParseArray(absl::string_view text, absl::string_view command,
                                absl::string_view expected_items) {
  json root;
  DomBuilder builder(&root);
  if (!json::sax_parse(text.begin(), text.end(), &builder)) {
    return FileError(command, absl::StrCat("the file is not valid JSON: ", builder.error()));
  }
  if (!root.is_array()) {
    return FileError(command, absl::StrCat("the file must hold a JSON array of ", expected_items,
                                           ", not ", root.type_name()));
  }
  return root;
}

// Reads an optional integer field; null counts as absent. Whole floats (1.7e9) are
// accepted because many JSON writers produce them.
absl::StatusOr<std::optional<int64_t>> OptionalInteger(const json& item, const char* field,
                                                       absl::string_view command, size_t index) {
  auto it = item.find(field);
  if (it == item.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer() && !it->is_number_unsigned()) return it->get<int64_t>();
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(v);
    }
  } else if (it->is_number_float()) {
    const double v = it->get<double>();
    // 2^63 is exactly representable; anything below it converts without overflow.
    if (std::trunc(v) == v && std::abs(v) < 9223372036854775808.0) {
      return static_cast<int64_t>(v);
    }
  }
  return ItemError(command, index, absl::StrCat("\"", field, "\" must be an integer"));
}

// Moves the required string `field` out of `item`.
absl::StatusOr<std::string> TakeString(json& item, const char* field, absl::string_view command,
                                       size_t index) {
  auto it = item.find(field);
  if (it == item.end()) {
    return ItemError(command, index, absl::StrCat("\"", field, "\" is missing"));
  }
  if (!it->is_string()) {
    return ItemError(command, index, absl::StrCat("\"", field, "\" must be a string"));
  }
  return std::move(it->get_ref<std::string&>());
}

bool IsKnownPutField(const std::string& name) {
  return name == "key" || name == "value" || name == "expiration" || name == "expiration_ttl" ||
         name == "metadata" || name == "base64";
}

// Records a warning for each field wrangler's format does not have.
void WarnUnknownFields(const json& item, size_t index, BulkPutFile* file, size_t* warning_count) {
  for (const auto& [name, unused] : item.items()) {
    if (IsKnownPutField(name)) continue;
    if (++*warning_count <= kMaxWarnings) {
      file->warnings.push_back(
          absl::StrCat("bulk put: item ", index, ": ignoring unknown field \"", name, "\""));
    }
  }
}

absl::StatusOr<bool> Base64Flag(const json& item, size_t index) {
  auto it = item.find("base64");
  if (it == item.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return ItemError("bulk put", index, "\"base64\" must be true or false");
  }
  return it->get<bool>();
}

absl::StatusOr<BulkPutItem> ParsePutItem(json& item, size_t index) {
  constexpr absl::string_view kCommand = "bulk put";
  if (!item.is_object()) {
    return ItemError(
        kCommand, index,
        absl::StrCat("must be an object with \"key\" and \"value\", not ", item.type_name()));
  }
  BulkPutItem out;
  KV_ASSIGN_OR_RETURN(out.key, TakeString(item, "key", kCommand, index));
  KV_ASSIGN_OR_RETURN(std::string value, TakeString(item, "value", kCommand, index));
  KV_ASSIGN_OR_RETURN(const bool base64, Base64Flag(item, index));
  if (!base64) {
    out.value = std::move(value);
  } else if (!absl::Base64Unescape(value, &out.value) &&
             !absl::WebSafeBase64Unescape(value, &out.value)) {
    return ItemError(kCommand, index, "\"value\" is not valid base64 (\"base64\" is true)");
  }
  KV_ASSIGN_OR_RETURN(std::optional<int64_t> expiration,
                      OptionalInteger(item, "expiration", kCommand, index));
  KV_ASSIGN_OR_RETURN(std::optional<int64_t> ttl,
                      OptionalInteger(item, "expiration_ttl", kCommand, index));
  if (expiration) out.options.expiration = absl::FromUnixSeconds(*expiration);
  if (ttl) out.options.expiration_ttl = absl::Seconds(*ttl);
  if (auto it = item.find("metadata"); it != item.end() && !it->is_null()) {
    out.options.metadata = it->dump();
  }
  return out;
}

absl::StatusOr<std::string> ParseKeyItem(json& item, size_t index, absl::string_view command) {
  std::string key;
  if (item.is_string()) {
    key = std::move(item.get_ref<std::string&>());
  } else if (item.is_object()) {
    KV_ASSIGN_OR_RETURN(key, TakeString(item, "key", command, index));
  } else {
    return ItemError(command, index,
                     absl::StrCat("must be a key string or an object with a \"key\" string, not ",
                                  item.type_name()));
  }
  if (absl::Status s = ValidateKey(key); !s.ok()) return ItemError(command, index, s.message());
  return key;
}

}  // namespace

absl::StatusOr<BulkPutFile> ParseBulkPutFile(absl::string_view text) {
  KV_ASSIGN_OR_RETURN(json root, ParseArray(text, "bulk put", "objects"));
  BulkPutFile file;
  file.items.reserve(root.size());
  size_t warning_count = 0;
  for (size_t i = 0; i < root.size(); ++i) {
    KV_ASSIGN_OR_RETURN(BulkPutItem item, ParsePutItem(root[i], i));
    WarnUnknownFields(root[i], i, &file, &warning_count);
    file.items.push_back(std::move(item));
    root[i] = nullptr;  // frees the item's copy of its metadata early
  }
  if (warning_count > kMaxWarnings) {
    file.warnings.push_back(
        absl::StrCat("bulk put: ", warning_count - kMaxWarnings, " more unknown fields ignored"));
  }
  return file;
}

absl::StatusOr<std::vector<std::string>> ParseBulkKeyFile(absl::string_view text,
                                                          absl::string_view command) {
  KV_ASSIGN_OR_RETURN(json root, ParseArray(text, command, "keys"));
  std::vector<std::string> keys;
  keys.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    KV_ASSIGN_OR_RETURN(std::string key, ParseKeyItem(root[i], i, command));
    keys.push_back(std::move(key));
  }
  return keys;
}

int64_t BulkPutItemBytes(const BulkPutItem& item) {
  const size_t metadata = item.options.metadata ? item.options.metadata->size() : 0;
  return static_cast<int64_t>(item.key.size() + item.value.size() + metadata);
}

std::vector<Batch> SplitIntoBatches(const std::vector<int64_t>& item_bytes, int64_t max_items,
                                    int64_t max_bytes) {
  std::vector<Batch> batches;
  Batch current;
  int64_t current_bytes = 0;
  for (size_t i = 0; i < item_bytes.size(); ++i) {
    const int64_t count = static_cast<int64_t>(current.end - current.begin);
    const bool full =
        count >= max_items || (count > 0 && current_bytes + item_bytes[i] > max_bytes);
    if (full) {
      batches.push_back(current);
      current = Batch{i, i};
      current_bytes = 0;
    }
    current.end = i + 1;
    current_bytes += item_bytes[i];
  }
  if (current.end > current.begin) batches.push_back(current);
  return batches;
}

std::vector<Batch> SplitByCount(size_t count, int64_t max_items) {
  std::vector<Batch> batches;
  const size_t step = static_cast<size_t>(max_items);
  for (size_t begin = 0; begin < count; begin += step) {
    batches.push_back(Batch{begin, std::min(count, begin + step)});
  }
  return batches;
}

}  // namespace kv::kvctl
