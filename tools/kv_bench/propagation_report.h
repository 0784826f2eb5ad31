#ifndef KV_TOOLS_KV_BENCH_PROPAGATION_REPORT_H_
#define KV_TOOLS_KV_BENCH_PROPAGATION_REPORT_H_

// The two renderings of a propagation run (propagation_runner.h): a table for people and
// one JSON object, with stable field names, for scripts (scripts/bench/propagation.sh).
// Pure functions.

#include <string>

#include "tools/kv_bench/propagation_runner.h"

namespace kv::bench {

// Returns a human-readable multi-line report.
std::string FormatPropagationTable(const PropagationResult& result);

// Returns the report as one line of JSON; times in milliseconds unless the name ends in
// _s. Fields:
//   mode "propagation", backend, endpoint, edges [...], run_id, namespace_id, rate,
//   duration_s, warmup_s, value_size, drain_limit_s, poll_interval_ms, pollers (one|per-edge),
//   scheduled_writes, unissued_writes, acknowledged_writes, write_errors, write_errors_by_code {},
//   first_write_error, elapsed_s, achieved_rate, behind_schedule, max_behind_ms,
//   write_latency_ms {count,min,p50,p90,p99,p999,max,mean}, drain_s, client_cpu_s (CPU
//   kv-bench used during the run),
//   per_edge [{endpoint, visible_ms {...}, seen, never_seen, probes, probe_hits,
//              probe_errors, probe_errors_by_code {}, first_probe_error,
//              probe_rtt_ms {...}}],
//   all_edges_ms {...} (every write on every edge), visible_on_all_ms {...} (per write,
//   the slowest edge), never_seen (write-edge pairs), never_seen_on_all (writes),
//   node_memory (null without --node-pid; as in FormatJson of bench_report.h).
std::string FormatPropagationJson(const PropagationResult& result);

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_PROPAGATION_REPORT_H_
