#include "tools/kvctl/bulk_commands.h"

#include <iterator>
#include <ostream>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "common/validation.h"
#include "tools/kvctl/bulk_file.h"
#include "tools/kvctl/output_json.h"
#include "tools/kvctl/progress_bar.h"

namespace kv::kvctl {
namespace {

// Returns the progress stream for a job of `batches` requests: short jobs draw nothing.
std::ostream* ProgressFor(const CommandIo& io, size_t batches) {
  return batches > 1 ? io.progress : nullptr;
}

// Reports a request that failed after `done` of `total` items were processed.
int ReportStopped(const CommandIo& io, const absl::Status& status, absl::string_view command,
                  int64_t done, int64_t total) {
  ReportStatus(io, status);
  if (done > 0) {
    ReportError(io,
                absl::StrCat(command, ": stopped after ", done, " of ", total,
                             " keys; the requests before the failure were applied"),
                kExitError);
  }
  return kExitError;
}

// The node's per-key checks that do not depend on time. An item failing one can never be
// written, and may not even fit a request (a value over 100 MiB), so it is not sent.
absl::Status CheckSendable(const BulkPutItem& item) {
  if (absl::Status s = ValidateKey(item.key); !s.ok()) return s;
  if (absl::Status s = ValidateValueSize(static_cast<int64_t>(item.value.size())); !s.ok()) {
    return s;
  }
  if (item.options.metadata) return ValidateMetadata(*item.options.metadata);
  return absl::OkStatus();
}

// Moves the items that pass CheckSendable into the result; reports the others in `failed`.
std::vector<BulkPutItem> TakeSendable(std::vector<BulkPutItem> items,
                                      std::vector<KeyError>* failed) {
  std::vector<BulkPutItem> sendable;
  sendable.reserve(items.size());
  for (BulkPutItem& item : items) {
    if (absl::Status s = CheckSendable(item); !s.ok()) {
      failed->push_back(KeyError{item.key, std::string(s.message())});
    } else {
      sendable.push_back(std::move(item));
    }
  }
  return sendable;
}

Json BulkPutResultToJson(const BulkPutResult& result) {
  Json failed = Json::array();
  for (const KeyError& e : result.unsuccessful_keys) {
    failed.push_back(Json{{"key", e.key}, {"error", e.error}});
  }
  return Json{{"successful_key_count", result.successful_key_count},
              {"unsuccessful_keys", std::move(failed)}};
}

bool IsResponseTooLarge(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         s.message() == BulkGetTooLargeError().message();
}

// Reads one key alone, for when even a one-key bulk response is over 25 MiB (a 25 MiB
// value plus its key and metadata).
absl::Status FetchOneKey(const Client& client, const BulkArgs& args, const std::string& key,
                         Json* out) {
  absl::StatusOr<std::optional<ValueWithMetadata>> got =
      client.GetWithMetadata(args.namespace_id, key);
  if (!got.ok()) return got.status();
  (*out)[key] = BulkGetEntryToJson(*got, args.with_metadata);
  return absl::OkStatus();
}

// Reads `keys` (1..100) into `out`, halving the request while the node finds the response
// over 25 MiB.
absl::Status FetchKeys(const Client& client, const BulkArgs& args,
                       const std::vector<std::string>& keys, Json* out) {
  absl::StatusOr<BulkGetResult> got =
      client.BulkGet(args.namespace_id, keys, {.with_metadata = args.with_metadata});
  if (IsResponseTooLarge(got.status())) {
    if (keys.size() == 1) return FetchOneKey(client, args, keys[0], out);
    const auto middle = keys.begin() + static_cast<std::ptrdiff_t>(keys.size() / 2);
    absl::Status s = FetchKeys(client, args, std::vector<std::string>(keys.begin(), middle), out);
    if (!s.ok()) return s;
    return FetchKeys(client, args, std::vector<std::string>(middle, keys.end()), out);
  }
  if (!got.ok()) return got.status();
  for (const std::string& key : keys) {
    auto it = got->find(key);
    (*out)[key] =
        it == got->end() ? Json(nullptr) : BulkGetEntryToJson(it->second, args.with_metadata);
  }
  return absl::OkStatus();
}

// Returns `keys` without repeats, first occurrences in order.
std::vector<std::string> Unique(std::vector<std::string> keys) {
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  for (std::string& key : keys) {
    if (seen.insert(key).second) out.push_back(std::move(key));
  }
  return out;
}

}  // namespace

int BulkPutCommand(const Client& client, const BulkArgs& args, const CommandIo& io) {
  absl::StatusOr<BulkPutFile> file;
  {
    absl::StatusOr<std::string> text = ReadInput(io, args.file);
    if (!text.ok()) return ReportError(io, text.status().message(), kExitUsage);
    file = ParseBulkPutFile(*text);
  }  // frees the file's text before the values are sent
  if (!file.ok()) return ReportError(io, file.status().message(), kExitUsage);
  for (const std::string& warning : file->warnings)
    *io.err << "kvctl: warning: " << warning << "\n";

  const int64_t total = static_cast<int64_t>(file->items.size());
  BulkPutResult result;
  std::vector<BulkPutItem> items = TakeSendable(std::move(file->items), &result.unsuccessful_keys);
  std::vector<int64_t> sizes;
  sizes.reserve(items.size());
  for (const BulkPutItem& item : items) sizes.push_back(BulkPutItemBytes(item));
  const std::vector<Batch> batches =
      SplitIntoBatches(sizes, kMaxBulkWriteItems, kMaxBulkRequestBytes);

  ProgressBar progress(ProgressFor(io, batches.size()), "bulk put", total, absl::Now());
  int64_t done = total - static_cast<int64_t>(items.size());
  for (const Batch& b : batches) {
    std::vector<BulkPutItem> batch(std::make_move_iterator(items.begin() + b.begin),
                                   std::make_move_iterator(items.begin() + b.end));
    absl::StatusOr<BulkPutResult> sent = client.BulkPut(args.namespace_id, batch);
    if (!sent.ok()) {
      progress.Finish();
      return ReportStopped(io, sent.status(), "bulk put", done, total);
    }
    result.successful_key_count += sent->successful_key_count;
    for (KeyError& e : sent->unsuccessful_keys) result.unsuccessful_keys.push_back(std::move(e));
    done += static_cast<int64_t>(batch.size());
    progress.Update(done, absl::Now());
  }
  progress.Finish();

  WriteJson(*io.out, BulkPutResultToJson(result));
  if (result.unsuccessful_keys.empty()) return kExitOk;
  return ReportError(io,
                     absl::StrCat("bulk put: ", result.unsuccessful_keys.size(), " of ", total,
                                  " keys failed; see \"unsuccessful_keys\""),
                     kExitError);
}

int BulkGetCommand(const Client& client, const BulkArgs& args, const CommandIo& io) {
  absl::StatusOr<std::string> text = ReadInput(io, args.file);
  if (!text.ok()) return ReportError(io, text.status().message(), kExitUsage);
  absl::StatusOr<std::vector<std::string>> parsed = ParseBulkKeyFile(*text, "bulk get");
  if (!parsed.ok()) return ReportError(io, parsed.status().message(), kExitUsage);
  const std::vector<std::string> keys = Unique(std::move(*parsed));

  const std::vector<Batch> batches = SplitByCount(keys.size(), kMaxBulkGetKeys);
  ProgressBar progress(ProgressFor(io, batches.size()), "bulk get", keys.size(), absl::Now());
  Json out = Json::object();
  for (const Batch& b : batches) {
    std::vector<std::string> batch(keys.begin() + b.begin, keys.begin() + b.end);
    if (absl::Status s = FetchKeys(client, args, batch, &out); !s.ok()) {
      progress.Finish();
      return ReportStatus(io, s);
    }
    progress.Update(static_cast<int64_t>(b.end), absl::Now());
  }
  progress.Finish();
  WriteJson(*io.out, out);
  return kExitOk;
}

int BulkDeleteCommand(const Client& client, const BulkArgs& args, const CommandIo& io) {
  absl::StatusOr<std::string> text = ReadInput(io, args.file);
  if (!text.ok()) return ReportError(io, text.status().message(), kExitUsage);
  absl::StatusOr<std::vector<std::string>> keys = ParseBulkKeyFile(*text, "bulk delete");
  if (!keys.ok()) return ReportError(io, keys.status().message(), kExitUsage);

  const int64_t total = static_cast<int64_t>(keys->size());
  const std::vector<Batch> batches = SplitByCount(keys->size(), kMaxBulkWriteItems);
  ProgressBar progress(ProgressFor(io, batches.size()), "bulk delete", total, absl::Now());
  int64_t deleted = 0;
  for (const Batch& b : batches) {
    std::vector<std::string> batch(keys->begin() + b.begin, keys->begin() + b.end);
    absl::StatusOr<int64_t> count = client.BulkDelete(args.namespace_id, batch);
    if (!count.ok()) {
      progress.Finish();
      return ReportStopped(io, count.status(), "bulk delete", static_cast<int64_t>(b.begin), total);
    }
    deleted += *count;
    progress.Update(static_cast<int64_t>(b.end), absl::Now());
  }
  progress.Finish();
  WriteJson(*io.out, Json{{"successful_key_count", deleted}});
  return kExitOk;
}

}  // namespace kv::kvctl
