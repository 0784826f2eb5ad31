#ifndef KV_TOOLS_KV_BENCH_REPORT_FORMAT_H_
#define KV_TOOLS_KV_BENCH_REPORT_FORMAT_H_

// Pieces shared by kv-bench's reports (bench_report.cc, propagation_report.cc), so the
// load and propagation reports print latencies and memory the same way. Pure functions.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tools/kv_bench/latency_recorder.h"
#include "tools/kv_bench/rss_sampler.h"

namespace kv::bench {

// Returns microseconds as milliseconds.
inline double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }
// Returns KiB as MiB.
inline double Mib(int64_t kib) { return static_cast<double>(kib) / 1024.0; }

// Returns {count, min, p50, p90, p99, p999, max, mean}, latencies in milliseconds.
nlohmann::ordered_json LatencyJson(const LatencySummary& s);
// Returns "p50 1.000  p90 2.000  p99 ...  max ...  (mean ...)" in milliseconds.
std::string LatencyLine(const LatencySummary& s);

// Returns {"CODE": count, ...} for errors counted by status code name.
nlohmann::ordered_json CodesJson(const std::map<std::string, int64_t>& by_code);

// Returns the node_memory JSON object (see FormatJson in bench_report.h).
nlohmann::ordered_json NodeMemoryJson(const RssReport& m);
// Returns "pid 7: start 1.0 MiB, peak 2.0 MiB, peak anon ... (3 samples)".
std::string NodeMemoryText(const RssReport& m);

// Returns `j` as one line; invalid UTF-8 (an error text could carry any bytes) is
// replaced instead of throwing.
std::string DumpJson(const nlohmann::ordered_json& j);

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_REPORT_FORMAT_H_
