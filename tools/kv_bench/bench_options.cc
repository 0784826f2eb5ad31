#include "tools/kv_bench/bench_options.h"

#include <algorithm>
#include <cmath>
#include <set>

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
  if (name == "propagation") return Mode::kPropagation;
  return absl::InvalidArgumentError(
      absl::StrCat("--mode must be get, put, list, mixed or propagation, not \"", name, "\""));
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
    case Mode::kPropagation:
      return "propagation";
  }
  return "?";
}

absl::StatusOr<Backend> ParseBackend(absl::string_view name) {
  if (name == "edgekv") return Backend::kEdgeKv;
  if (name == "redis") return Backend::kRedis;
  return absl::InvalidArgumentError(
      absl::StrCat("--backend must be edgekv or redis, not \"", name, "\""));
}

const char* BackendName(Backend backend) {
  switch (backend) {
    case Backend::kEdgeKv:
      return "edgekv";
    case Backend::kRedis:
      return "redis";
  }
  return "?";
}

int64_t PropagationWrites(const BenchOptions& o) {
  return static_cast<int64_t>(
      std::ceil(o.rate * absl::ToDoubleSeconds(o.warmup + o.duration) - 1e-9));
}

int64_t PropagationWarmupWrites(const BenchOptions& o) {
  return static_cast<int64_t>(std::ceil(o.rate * absl::ToDoubleSeconds(o.warmup) - 1e-9));
}

namespace {

absl::Status ValidatePropagationOptions(const BenchOptions& o) {
  if (o.requests != 0) {
    return absl::InvalidArgumentError("--requests does not apply to --mode propagation");
  }
  if (o.edges.empty()) {
    return absl::InvalidArgumentError("--mode propagation needs --edges HOST:PORT,...");
  }
  std::set<std::string> seen;
  for (const std::string& edge : o.edges) {
    if (edge.empty()) return absl::InvalidArgumentError("--edges has an empty entry");
    if (edge == o.endpoint) {
      return absl::InvalidArgumentError(
          absl::StrCat("--edges lists the origin (--endpoint) ", edge));
    }
    if (!seen.insert(edge).second) {
      return absl::InvalidArgumentError(absl::StrCat("--edges lists ", edge, " twice"));
    }
  }
  if (!(o.rate > 0) || !std::isfinite(o.rate)) {
    return absl::InvalidArgumentError("--rate must be positive");
  }
  if (o.writers < 1 || o.writers > kMaxPropagationWriters) {
    return absl::InvalidArgumentError(
        absl::StrCat("--writers must be between 1 and ", kMaxPropagationWriters));
  }
  if (o.writers > 1 && o.backend != Backend::kEdgeKv) {
    return absl::InvalidArgumentError(
        "--writers above 1 needs --backend edgekv (Redis reports no commit order)");
  }
  const int64_t writes = PropagationWrites(o);
  if (writes <= PropagationWarmupWrites(o)) {
    return absl::InvalidArgumentError("--rate * --duration must be at least one write");
  }
  if (writes > kMaxPropagationWrites) {
    return absl::InvalidArgumentError(absl::StrCat("--rate * (--warmup + --duration) is ", writes,
                                                   " writes; at most ", kMaxPropagationWrites,
                                                   " are supported"));
  }
  if (o.drain < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain must not be negative");
  }
  if (o.poll_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--poll-interval must not be negative");
  }
  if (o.setup_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOptions(const BenchOptions& o) {
  if (o.endpoint.empty()) return absl::InvalidArgumentError("--endpoint must not be empty");
  if (o.concurrency < 1) return absl::InvalidArgumentError("--concurrency must be at least 1");
  if (o.channels < 0) return absl::InvalidArgumentError("--channels must be at least 1");
  if (o.keys < 1) return absl::InvalidArgumentError("--keys must be at least 1");
  if (o.value_size < 0 || o.value_size > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--value-size must be between 0 and ", kMaxValueBytes, " bytes"));
  }
  if (o.backend != Backend::kEdgeKv && o.mode != Mode::kPropagation) {
    return absl::InvalidArgumentError("--backend redis needs --mode propagation");
  }
  if (o.edge_reads_resp && (o.backend != Backend::kEdgeKv || o.mode != Mode::kPropagation)) {
    return absl::InvalidArgumentError(
        "--edge-reads resp needs --mode propagation and --backend edgekv");
  }
  if (!o.origin_resp.empty() &&
      (o.backend != Backend::kEdgeKv || o.mode != Mode::kPropagation)) {
    return absl::InvalidArgumentError(
        "--origin-resp needs --mode propagation and --backend edgekv");
  }
  if (o.mode == Mode::kPropagation) {
    absl::Status s = ValidatePropagationOptions(o);
    if (!s.ok()) return s;
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

bool NeedsPreload(Mode mode) {
  return mode == Mode::kGet || mode == Mode::kList || mode == Mode::kMixed;
}

}  // namespace kv::bench
