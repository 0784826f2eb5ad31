#ifndef KV_TOOLS_KV_BENCH_BENCH_REPORT_H_
#define KV_TOOLS_KV_BENCH_BENCH_REPORT_H_

// The outcome of one kv-bench run and its two renderings: a table for people and one
// JSON object, with stable field names, for scripts (scripts/bench/). Pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "tools/kv_bench/bench_options.h"
#include "tools/kv_bench/latency_recorder.h"
#include "tools/kv_bench/rss_sampler.h"

namespace kv::bench {

struct BenchResult {
  BenchOptions options;
  std::string namespace_id;
  int channels = 0;
  // From the end of the warmup until the last worker finished its last call (calls in
  // flight at the deadline are waited for and counted).
  absl::Duration elapsed;
  // Successful operations measured; their latencies are in `latency`.
  int64_t ops = 0;
  // Failed operations measured, by status code name ("UNAVAILABLE"); not in `latency`.
  int64_t errors = 0;
  std::map<std::string, int64_t> errors_by_code;
  std::string first_error;  // the text of one failure, empty if none
  // Successful gets that found no value (a preloaded key missing: should stay 0).
  int64_t misses = 0;
  // Value bytes moved by successful gets and puts.
  int64_t value_bytes = 0;
  // Keys returned by successful list calls.
  int64_t listed_keys = 0;
  LatencySummary latency;                       // every successful operation
  std::map<std::string, LatencySummary> by_op;  // "get", "put", "list": those that ran
  std::optional<RssReport> node_memory;         // with --node-pid
};

// Returns successful operations per second of `elapsed` (0 if elapsed is 0).
double Throughput(const BenchResult& result);
// Returns value megabytes (10^6 bytes) per second of `elapsed` (0 if elapsed is 0).
double MegabytesPerSecond(const BenchResult& result);

// Returns a human-readable multi-line report.
std::string FormatTable(const BenchResult& result);
// Returns the report as one line of JSON. Latencies are in milliseconds, memory in MiB.
// node_memory (null without --node-pid) has pid, samples, failed_reads, start_rss_mib,
// peak_rss_mib (VmRSS), peak_rss_anon_mib (RssAnon: the node's own memory),
// peak_rss_file_mib (RssFile: mmapped files, i.e. LevelDB tables in the page cache; the
// two are null if the kernel has no such lines) and vm_hwm_mib.
std::string FormatJson(const BenchResult& result);

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_BENCH_REPORT_H_
