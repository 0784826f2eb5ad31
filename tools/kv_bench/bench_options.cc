#include "tools/kv_bench/bench_options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/validation.h"
#include "tools/kv_bench/key_space.h"

namespace kv::bench {

absl::StatusOr<Mode> ParseMode(absl::string_view name) {
  if (name == "get") return Mode::kGet;
  if (name == "put") return Mode::kPut;
  if (name == "list") return Mode::kList;
  if (name == "mixed") return Mode::kMixed;
  return absl::InvalidArgumentError(
      absl::StrCat("--mode must be get, put, list or mixed, not \"", name, "\""));
}

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kGet:
      return "get";
    case Mode::kPut:
      return "put";
    case Mode::kList:
      return "list";
    case Mode::kMixed:
      return "mixed";
  }
  return "?";
}

absl::Status ValidateOptions(const BenchOptions& o) {
  if (o.endpoint.empty()) return absl::InvalidArgumentError("--endpoint must not be empty");
  if (o.concurrency < 1) return absl::InvalidArgumentError("--concurrency must be at least 1");
  if (o.channels < 0) return absl::InvalidArgumentError("--channels must be at least 1");
  if (o.keys < 1) return absl::InvalidArgumentError("--keys must be at least 1");
  if (o.value_size < 0 || o.value_size > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--value-size must be between 0 and ", kMaxValueBytes, " bytes"));
  }
  if (o.requests < 0) return absl::InvalidArgumentError("--requests must not be negative");
  if (o.requests == 0 && o.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--duration must be positive (or pass --requests)");
  }
  if (o.warmup < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--warmup must not be negative");
  }
  if (o.list_limit < 1 || o.list_limit > kMaxListLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("--list-limit must be between 1 and ", kMaxListLimit));
  }
  if (!(o.read_ratio >= 0.0 && o.read_ratio <= 1.0)) {
    return absl::InvalidArgumentError("--read-ratio must be between 0 and 1");
  }
  if (o.node_pid < 0) return absl::InvalidArgumentError("--node-pid must be positive");
  if (o.rss_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the RSS sampling interval must be positive");
  }
  if (!o.namespace_id.empty()) {
    absl::Status s = ValidateNamespaceId(o.namespace_id);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("--namespace-id: ", s.message()));
  }
  // The longest key is representative of all: same prefix, same width.
  absl::Status key = ValidateKey(KeyName(o.key_prefix, o.keys - 1, o.keys));
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--key-prefix gives bad keys: ", key.message()));
  }
  return absl::OkStatus();
}

int EffectiveChannels(const BenchOptions& options) {
  return options.channels > 0 ? options.channels : std::min(options.concurrency, 4);
}

bool NeedsPreload(Mode mode) { return mode != Mode::kPut; }

}  // namespace kv::bench
