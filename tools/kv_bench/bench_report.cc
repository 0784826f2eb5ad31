#include "tools/kv_bench/bench_report.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/kv_bench/report_format.h"

namespace kv::bench {

double Throughput(const BenchResult& r) {
  const double seconds = absl::ToDoubleSeconds(r.elapsed);
  return seconds > 0 ? static_cast<double>(r.ops) / seconds : 0;
}

double MegabytesPerSecond(const BenchResult& r) {
  const double seconds = absl::ToDoubleSeconds(r.elapsed);
  return seconds > 0 ? static_cast<double>(r.value_bytes) / 1e6 / seconds : 0;
}

std::string FormatTable(const BenchResult& r) {
  const BenchOptions& o = r.options;
  std::string out = absl::StrFormat(
      "kv-bench %s against %s, namespace %s\n"
      "  %d workers over %d channels, %d keys, %d-byte values",
      ModeName(o.mode), o.endpoint, r.namespace_id, o.concurrency, r.channels, o.keys,
      o.value_size);
  if (o.mode == Mode::kList) absl::StrAppendFormat(&out, ", list limit %d", o.list_limit);
  if (o.mode == Mode::kMixed) absl::StrAppendFormat(&out, ", read ratio %.2f", o.read_ratio);
  absl::StrAppend(&out, "\n");
  absl::StrAppendFormat(&out, "  %-14s %.3f s", "measured", absl::ToDoubleSeconds(r.elapsed));
  if (o.warmup > absl::ZeroDuration()) {
    absl::StrAppendFormat(&out, " (after %.1f s warmup)", absl::ToDoubleSeconds(o.warmup));
  }
  absl::StrAppend(&out, "\n");
  absl::StrAppendFormat(&out, "  %-14s %d  (%.1f ops/s)\n", "ops", r.ops, Throughput(r));
  absl::StrAppendFormat(&out, "  %-14s %d", "errors", r.errors);
  for (const auto& [code, n] : r.errors_by_code) absl::StrAppendFormat(&out, "  %s=%d", code, n);
  absl::StrAppend(&out, "\n");
  if (!r.first_error.empty())
    absl::StrAppendFormat(&out, "  %-14s %s\n", "first error", r.first_error);
  if (r.misses > 0) absl::StrAppendFormat(&out, "  %-14s %d\n", "get misses", r.misses);
  if (r.value_bytes > 0) {
    absl::StrAppendFormat(&out, "  %-14s %.3f MB  (%.2f MB/s)\n", "value bytes",
                          static_cast<double>(r.value_bytes) / 1e6, MegabytesPerSecond(r));
  }
  if (o.mode == Mode::kList)
    absl::StrAppendFormat(&out, "  %-14s %d\n", "listed keys", r.listed_keys);
  absl::StrAppendFormat(&out, "  %-14s %s\n", "latency (ms)", LatencyLine(r.latency));
  if (r.by_op.size() > 1) {
    for (const auto& [op, s] : r.by_op) {
      absl::StrAppendFormat(&out, "  %-14s %d ops: %s\n", absl::StrCat("  ", op), s.count,
                            LatencyLine(s));
    }
  }
  if (r.node_memory) {
    absl::StrAppendFormat(&out, "  %-14s %s\n", "node RSS", NodeMemoryText(*r.node_memory));
  }
  return out;
}

std::string FormatJson(const BenchResult& r) {
  const BenchOptions& o = r.options;
  nlohmann::ordered_json j;
  j["mode"] = ModeName(o.mode);
  j["endpoint"] = o.endpoint;
  j["namespace_id"] = r.namespace_id;
  j["concurrency"] = o.concurrency;
  j["channels"] = r.channels;
  j["keys"] = o.keys;
  j["value_size"] = o.value_size;
  j["list_limit"] = o.list_limit;
  j["read_ratio"] = o.read_ratio;
  j["warmup_s"] = absl::ToDoubleSeconds(o.warmup);
  j["requests"] = o.requests;
  j["elapsed_s"] = absl::ToDoubleSeconds(r.elapsed);
  j["ops"] = r.ops;
  j["errors"] = r.errors;
  j["errors_by_code"] = CodesJson(r.errors_by_code);
  j["first_error"] = r.first_error;
  j["misses"] = r.misses;
  j["value_bytes"] = r.value_bytes;
  j["listed_keys"] = r.listed_keys;
  j["throughput_ops_per_s"] = Throughput(r);
  j["mb_per_s"] = MegabytesPerSecond(r);
  j["latency_ms"] = LatencyJson(r.latency);
  j["by_op"] = nlohmann::ordered_json::object();
  for (const auto& [op, s] : r.by_op) j["by_op"][op] = LatencyJson(s);
  j["node_memory"] =
      r.node_memory ? NodeMemoryJson(*r.node_memory) : nlohmann::ordered_json(nullptr);
  return DumpJson(j);
}

}  // namespace kv::bench
