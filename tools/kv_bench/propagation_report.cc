#include "tools/kv_bench/propagation_report.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/kv_bench/report_format.h"

namespace kv::bench {
namespace {

// One row of the visibility table: name, p50 p90 p99 max (ms), then `extra`.
std::string Row(const std::string& name, const LatencySummary& s, const std::string& extra) {
  if (s.count == 0)
    return absl::StrFormat("    %-24s %8s %8s %8s %9s%s\n", name, "-", "-", "-", "-", extra);
  return absl::StrFormat("    %-24s %8.3f %8.3f %8.3f %9.3f%s\n", name, Ms(s.p50_us), Ms(s.p90_us),
                         Ms(s.p99_us), Ms(s.max_us), extra);
}

}  // namespace

std::string FormatPropagationTable(const PropagationResult& r) {
  const BenchOptions& o = r.options;
  const VisibilityStats& v = r.visibility;
  std::string out = absl::StrFormat("kv-bench propagation (%s%s): origin %s -> %d edges, run %s",
                                    BackendName(o.backend),
                                    o.edge_reads_resp ? ", edges read over RESP" : "",
                                    o.endpoint, o.edges.size(), r.run_id);
  if (!r.namespace_id.empty()) absl::StrAppend(&out, ", namespace ", r.namespace_id);
  absl::StrAppend(&out, "\n");
  absl::StrAppendFormat(&out, "  %-14s %d at %.0f/s over %.1f s", "writes", r.scheduled_writes,
                        o.rate, absl::ToDoubleSeconds(o.duration));
  if (o.warmup > absl::ZeroDuration()) {
    absl::StrAppendFormat(&out, " (after %.1f s warmup)", absl::ToDoubleSeconds(o.warmup));
  }
  absl::StrAppendFormat(&out, ", %d-byte values, %d writer%s\n", o.value_size, o.writers,
                        o.writers == 1 ? "" : "s");
  absl::StrAppendFormat(&out,
                        "  %-14s %.1f writes/s: %d acknowledged in %.3f s, %d failed, %d not "
                        "issued; %d started > %s behind schedule (latest %.3f ms)\n",
                        "achieved", AchievedRate(r), v.measured_writes,
                        absl::ToDoubleSeconds(r.elapsed), r.write_errors, r.unissued_writes,
                        r.behind_schedule, absl::FormatDuration(kBehindScheduleSlack),
                        absl::ToDoubleMilliseconds(r.max_behind));
  for (const auto& [code, n] : r.write_errors_by_code) {
    absl::StrAppendFormat(&out, "  %-14s %s=%d, e.g. %s\n", "write errors", code, n,
                          r.first_write_error);
  }
  absl::StrAppendFormat(&out, "  %-14s %s\n", "write (ms)", LatencyLine(r.write_latency));
  absl::StrAppendFormat(&out, "  %-14s %.3f s (limit %.0f s)\n", "drain",
                        absl::ToDoubleSeconds(r.drain), absl::ToDoubleSeconds(o.drain));
  absl::StrAppendFormat(&out, "  %-14s %.2f s of CPU (writers and pollers)\n", "kv-bench used",
                        absl::ToDoubleSeconds(r.client_cpu));
  absl::StrAppend(&out, "  visible after the origin's acknowledgement (ms):\n");
  absl::StrAppendFormat(&out, "    %-24s %8s %8s %8s %9s %7s %9s %9s %7s\n", "edge", "p50", "p90",
                        "p99", "max", "never", "reads", "read p50", "errors");
  for (size_t e = 0; e < r.edges.size() && e < v.edges.size(); ++e) {
    const EdgeProbeStats& p = r.edges[e];
    const EdgeVisibility& ev = v.edges[e];
    absl::StrAppend(&out, Row(p.endpoint, ev.delay,
                              absl::StrFormat(" %7d %9d %9.3f %7d", ev.never_seen, p.probes,
                                              Ms(p.probe_rtt.p50_us), p.errors)));
  }
  absl::StrAppend(&out, Row("all edges", v.all_edges, absl::StrFormat(" %7d", v.never_seen)));
  absl::StrAppend(&out, Row("visible on ALL edges", v.on_all_edges,
                            absl::StrFormat(" %7d", v.never_on_all_edges)));
  absl::StrAppendFormat(
      &out, "  %-14s %d of %d (write, edge) pairs; %d writes missing on some edge\n", "never seen",
      v.never_seen, v.measured_writes * static_cast<int64_t>(v.edges.size()), v.never_on_all_edges);
  for (const EdgeProbeStats& p : r.edges) {
    if (p.errors == 0) continue;
    std::vector<std::string> codes;
    for (const auto& [code, n] : p.errors_by_code) codes.push_back(absl::StrCat(code, "=", n));
    absl::StrAppendFormat(&out, "  %-14s %s: %s, e.g. %s\n", "read errors", p.endpoint,
                          absl::StrJoin(codes, " "), p.first_error);
  }
  if (r.node_memory) {
    absl::StrAppendFormat(&out, "  %-14s %s\n", "node RSS", NodeMemoryText(*r.node_memory));
  }
  return out;
}

std::string FormatPropagationJson(const PropagationResult& r) {
  const BenchOptions& o = r.options;
  const VisibilityStats& v = r.visibility;
  nlohmann::ordered_json j;
  j["mode"] = ModeName(o.mode);
  j["backend"] = BackendName(o.backend);
  j["endpoint"] = o.endpoint;
  j["edges"] = o.edges;
  j["edge_reads"] = o.backend == Backend::kRedis ? "redis" : o.edge_reads_resp ? "resp" : "grpc";
  j["run_id"] = r.run_id;
  j["namespace_id"] = r.namespace_id;
  j["start_unix_s"] = absl::ToDoubleSeconds(r.start - absl::UnixEpoch());
  j["rate"] = o.rate;
  j["writers"] = o.writers;
  j["duration_s"] = absl::ToDoubleSeconds(o.duration);
  j["warmup_s"] = absl::ToDoubleSeconds(o.warmup);
  j["value_size"] = o.value_size;
  j["drain_limit_s"] = absl::ToDoubleSeconds(o.drain);
  j["poll_interval_ms"] = absl::ToDoubleMilliseconds(o.poll_interval);
  j["pollers"] = r.one_poller ? "one" : "per-edge";
  j["scheduled_writes"] = r.scheduled_writes;
  j["unissued_writes"] = r.unissued_writes;
  j["acknowledged_writes"] = v.measured_writes;
  j["write_errors"] = r.write_errors;
  j["write_errors_by_code"] = CodesJson(r.write_errors_by_code);
  j["first_write_error"] = r.first_write_error;
  j["elapsed_s"] = absl::ToDoubleSeconds(r.elapsed);
  j["achieved_rate"] = AchievedRate(r);
  j["behind_schedule"] = r.behind_schedule;
  j["max_behind_ms"] = absl::ToDoubleMilliseconds(r.max_behind);
  j["write_latency_ms"] = LatencyJson(r.write_latency);
  j["drain_s"] = absl::ToDoubleSeconds(r.drain);
  j["client_cpu_s"] = absl::ToDoubleSeconds(r.client_cpu);
  j["per_edge"] = nlohmann::ordered_json::array();
  for (size_t e = 0; e < r.edges.size() && e < v.edges.size(); ++e) {
    const EdgeProbeStats& p = r.edges[e];
    const EdgeVisibility& ev = v.edges[e];
    j["per_edge"].push_back({{"endpoint", p.endpoint},
                             {"visible_ms", LatencyJson(ev.delay)},
                             {"seen", ev.seen},
                             {"never_seen", ev.never_seen},
                             {"probes", p.probes},
                             {"probe_hits", p.hits},
                             {"probe_errors", p.errors},
                             {"probe_errors_by_code", CodesJson(p.errors_by_code)},
                             {"first_probe_error", p.first_error},
                             {"probe_rtt_ms", LatencyJson(p.probe_rtt)}});
  }
  j["all_edges_ms"] = LatencyJson(v.all_edges);
  j["visible_on_all_ms"] = LatencyJson(v.on_all_edges);
  j["never_seen"] = v.never_seen;
  j["never_seen_on_all"] = v.never_on_all_edges;
  j["node_memory"] =
      r.node_memory ? NodeMemoryJson(*r.node_memory) : nlohmann::ordered_json(nullptr);
  return DumpJson(j);
}

}  // namespace kv::bench
