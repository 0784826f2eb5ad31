#include "tools/kv_bench/report_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kv::bench {
namespace {

// MiB as JSON, null when the kernel did not report the figure.
nlohmann::ordered_json MibOrNull(const std::optional<int64_t>& kib) {
  return kib ? nlohmann::ordered_json(Mib(*kib)) : nlohmann::ordered_json(nullptr);
}

// "12.3 MiB", or "n/a" when the kernel did not report the figure.
std::string MibText(const std::optional<int64_t>& kib) {
  return kib ? absl::StrFormat("%.1f MiB", Mib(*kib)) : "n/a";
}

}  // namespace

nlohmann::ordered_json LatencyJson(const LatencySummary& s) {
  return {{"count", s.count},    {"min", Ms(s.min_us)},       {"p50", Ms(s.p50_us)},
          {"p90", Ms(s.p90_us)}, {"p99", Ms(s.p99_us)},       {"p999", Ms(s.p999_us)},
          {"max", Ms(s.max_us)}, {"mean", s.mean_us / 1000.0}};
}

nlohmann::ordered_json CodesJson(const std::map<std::string, int64_t>& by_code) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [code, n] : by_code) j[code] = n;
  return j;
}

std::string LatencyLine(const LatencySummary& s) {
  return absl::StrFormat("p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (mean %.3f)",
                         Ms(s.p50_us), Ms(s.p90_us), Ms(s.p99_us), Ms(s.p999_us), Ms(s.max_us),
                         s.mean_us / 1000.0);
}

nlohmann::ordered_json NodeMemoryJson(const RssReport& m) {
  return {{"pid", m.pid},
          {"samples", m.samples},
          {"failed_reads", m.failed_reads},
          {"start_rss_mib", Mib(m.start_rss_kib)},
          {"peak_rss_mib", Mib(m.peak_rss_kib)},
          {"peak_rss_anon_mib", MibOrNull(m.peak_rss_anon_kib)},
          {"peak_rss_file_mib", MibOrNull(m.peak_rss_file_kib)},
          {"vm_hwm_mib", Mib(m.vm_hwm_kib)}};
}

std::string NodeMemoryText(const RssReport& m) {
  // Peak anon is the node's own memory; RssFile is mostly LevelDB's mmapped tables
  // (page cache), which VmRSS also counts.
  std::string out = absl::StrFormat(
      "pid %d: start %.1f MiB, peak %.1f MiB, peak anon %s (file %s), VmHWM %.1f MiB  (%d "
      "samples",
      m.pid, Mib(m.start_rss_kib), Mib(m.peak_rss_kib), MibText(m.peak_rss_anon_kib),
      MibText(m.peak_rss_file_kib), Mib(m.vm_hwm_kib), m.samples);
  if (m.failed_reads > 0) absl::StrAppendFormat(&out, ", %d failed reads", m.failed_reads);
  absl::StrAppend(&out, ")");
  return out;
}

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace kv::bench
