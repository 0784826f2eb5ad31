#include "tools/kvctl/key_commands.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "common/validation.h"
#include "tools/kvctl/output_json.h"

namespace kv::kvctl {
namespace {

// Returns the metadata to send: compact JSON when `metadata` parses, else unchanged so
// the SDK's validation reports it.
std::string NormaliseMetadata(const std::string& metadata) {
  Json parsed = Json::parse(metadata, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return metadata;
  return parsed.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

// Wrangler's text for a missing key; not prefixed, so scripts can match it exactly.
int ReportNotFound(const CommandIo& io) {
  *io.err << "Value not found\n";
  io.err->flush();
  return kExitNotFound;
}

int PrintSuccess(const CommandIo& io) {
  WriteJson(*io.out, Json{{"success", true}});
  return kExitOk;
}

}  // namespace

int PutKeyCommand(const Client& client, const PutKeyArgs& args, const CommandIo& io) {
  if (args.value.has_value() == args.path.has_value()) {
    return ReportError(io, "key put: give exactly one of VALUE or --path", kExitUsage);
  }
  std::string value;
  if (args.path.has_value()) {
    absl::StatusOr<std::string> content = ReadInput(io, *args.path);
    if (!content.ok()) return ReportError(io, content.status().message(), kExitUsage);
    value = std::move(*content);
  } else {
    value = *args.value;
  }
  PutOptions options;
  if (args.ttl_seconds) options.expiration_ttl = absl::Seconds(*args.ttl_seconds);
  if (args.expiration_seconds) {
    options.expiration = absl::FromUnixSeconds(*args.expiration_seconds);
  }
  if (args.metadata) options.metadata = NormaliseMetadata(*args.metadata);
  absl::Status s = client.Put(args.namespace_id, args.key, value, options);
  if (!s.ok()) return ReportStatus(io, s);
  return PrintSuccess(io);
}

int GetKeyCommand(const Client& client, const GetKeyArgs& args, const CommandIo& io) {
  if (args.with_metadata) {
    absl::StatusOr<std::optional<ValueWithMetadata>> got =
        client.GetWithMetadata(args.namespace_id, args.key);
    if (!got.ok()) return ReportStatus(io, got.status());
    if (!got->has_value()) return ReportNotFound(io);
    WriteJson(*io.out, GetWithMetadataToJson(**got));
    return kExitOk;
  }
  absl::StatusOr<std::optional<std::string>> value = client.Get(args.namespace_id, args.key);
  if (!value.ok()) return ReportStatus(io, value.status());
  if (!value->has_value()) return ReportNotFound(io);
  // Raw bytes, nothing added: `kvctl key get k > file` round-trips binary values.
  io.out->write((*value)->data(), static_cast<std::streamsize>((*value)->size()));
  io.out->flush();
  return kExitOk;
}

int DeleteKeyCommand(const Client& client, const std::string& namespace_id, const std::string& key,
                     const CommandIo& io) {
  if (absl::Status s = client.Delete(namespace_id, key); !s.ok()) return ReportStatus(io, s);
  return PrintSuccess(io);
}

namespace {

Json KeysToJson(const std::vector<ListedKey>& keys) {
  Json out = Json::array();
  for (const ListedKey& key : keys) out.push_back(ListedKeyToJson(key));
  return out;
}

int ListOnePage(const Client& client, const ListKeysArgs& args, const CommandIo& io) {
  ListOptions options{.prefix = args.prefix, .cursor = args.cursor.value_or("")};
  if (args.limit) {
    // The request carries an int32; check here so a huge --limit gets the exact message.
    absl::StatusOr<int> limit = ResolveListLimit(*args.limit);
    if (!limit.ok()) return ReportStatus(io, limit.status());
    options.limit = *limit;
  }
  absl::StatusOr<ListResult> page = client.List(args.namespace_id, options);
  if (!page.ok()) return ReportStatus(io, page.status());
  Json out = Json::object();
  out["keys"] = KeysToJson(page->keys);
  out["list_complete"] = page->list_complete;
  if (!page->list_complete) out["cursor"] = page->cursor;
  WriteJson(*io.out, out);
  return kExitOk;
}

int ListAllPages(const Client& client, const ListKeysArgs& args, const CommandIo& io) {
  ListOptions options{.prefix = args.prefix};
  Json out = Json::array();
  while (true) {
    absl::StatusOr<ListResult> page = client.List(args.namespace_id, options);
    if (!page.ok()) return ReportStatus(io, page.status());
    for (const ListedKey& key : page->keys) out.push_back(ListedKeyToJson(key));
    if (page->list_complete) break;
    if (page->cursor.empty() || page->cursor == options.cursor) {
      // Following it would loop forever.
      return ReportError(io, "key list: the node returned an incomplete page without a new cursor",
                         kExitError);
    }
    options.cursor = std::move(page->cursor);
  }
  WriteJson(*io.out, out);
  return kExitOk;
}

}  // namespace

int ListKeysCommand(const Client& client, const ListKeysArgs& args, const CommandIo& io) {
  if (args.limit.has_value() || args.cursor.has_value()) return ListOnePage(client, args, io);
  return ListAllPages(client, args, io);
}

}  // namespace kv::kvctl
