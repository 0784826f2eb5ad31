#include "tools/kv_bench/bench_report.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kv::bench {
namespace {

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }
double Mib(int64_t kib) { return static_cast<double>(kib) / 1024.0; }

// MiB as JSON, null when the kernel did not report the figure.
nlohmann::ordered_json MibOrNull(const std::optional<int64_t>& kib) {
  return kib ? nlohmann::ordered_json(Mib(*kib)) : nlohmann::ordered_json(nullptr);
}

// "12.3 MiB", or "n/a" when the kernel did not report the figure.
std::string MibText(const std::optional<int64_t>& kib) {
  return kib ? absl::StrFormat("%.1f MiB", Mib(*kib)) : "n/a";
}

nlohmann::ordered_json LatencyJson(const LatencySummary& s) {
  return {{"count", s.count},    {"min", Ms(s.min_us)},       {"p50", Ms(s.p50_us)},
          {"p90", Ms(s.p90_us)}, {"p99", Ms(s.p99_us)},       {"p999", Ms(s.p999_us)},
          {"max", Ms(s.max_us)}, {"mean", s.mean_us / 1000.0}};
}

std::string LatencyLine(const LatencySummary& s) {
  return absl::StrFormat("p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (mean %.3f)",
                         Ms(s.p50_us), Ms(s.p90_us), Ms(s.p99_us), Ms(s.p999_us), Ms(s.max_us),
                         s.mean_us / 1000.0);
}

}  // namespace

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
    const RssReport& m = *r.node_memory;
    // Peak anon is the node's own memory; RssFile is mostly LevelDB's mmapped tables
    // (page cache), which VmRSS also counts.
    absl::StrAppendFormat(&out,
                          "  %-14s pid %d: start %.1f MiB, peak %.1f MiB, peak anon %s"
                          " (file %s), VmHWM %.1f MiB  (%d samples",
                          "node RSS", m.pid, Mib(m.start_rss_kib), Mib(m.peak_rss_kib),
                          MibText(m.peak_rss_anon_kib), MibText(m.peak_rss_file_kib),
                          Mib(m.vm_hwm_kib), m.samples);
    if (m.failed_reads > 0) absl::StrAppendFormat(&out, ", %d failed reads", m.failed_reads);
    absl::StrAppend(&out, ")\n");
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
  j["errors_by_code"] = nlohmann::ordered_json::object();
  for (const auto& [code, n] : r.errors_by_code) j["errors_by_code"][code] = n;
  j["first_error"] = r.first_error;
  j["misses"] = r.misses;
  j["value_bytes"] = r.value_bytes;
  j["listed_keys"] = r.listed_keys;
  j["throughput_ops_per_s"] = Throughput(r);
  j["mb_per_s"] = MegabytesPerSecond(r);
  j["latency_ms"] = LatencyJson(r.latency);
  j["by_op"] = nlohmann::ordered_json::object();
  for (const auto& [op, s] : r.by_op) j["by_op"][op] = LatencyJson(s);
  if (r.node_memory) {
    const RssReport& m = *r.node_memory;
    j["node_memory"] = {{"pid", m.pid},
                        {"samples", m.samples},
                        {"failed_reads", m.failed_reads},
                        {"start_rss_mib", Mib(m.start_rss_kib)},
                        {"peak_rss_mib", Mib(m.peak_rss_kib)},
                        {"peak_rss_anon_mib", MibOrNull(m.peak_rss_anon_kib)},
                        {"peak_rss_file_mib", MibOrNull(m.peak_rss_file_kib)},
                        {"vm_hwm_mib", Mib(m.vm_hwm_kib)}};
  } else {
    j["node_memory"] = nullptr;
  }
  // Replace invalid UTF-8 (an error text could carry any bytes) instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace kv::bench
