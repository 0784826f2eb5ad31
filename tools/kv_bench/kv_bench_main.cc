// kv-bench: closed-loop load generator and latency/throughput meter for an EdgeKV node,
// and (--mode propagation) meter of how long writes take to reach every edge.
//
//   kv-bench --endpoint 127.0.0.1:7400 --mode get --concurrency 16 --keys 10000
//            --value-size 100 --duration 10 --warmup 2
//   kv-bench --endpoint 127.0.0.1:7400 --mode put --value-size 26214400 --concurrency 8
//            --requests 8 --keys 8 --node-pid 1234 --json
//   kv-bench --mode propagation --endpoint 127.0.0.1:7500
//            --edges 127.0.0.1:7501,127.0.0.1:7502 --rate 1000 --writers 16 --duration 30
//   kv-bench --mode propagation --endpoint 127.0.0.1:7500 --edge-reads resp
//            --edges 127.0.0.1:6501,127.0.0.1:6502 --rate 1000 --writers 16 --duration 30
//   kv-bench --mode propagation --backend redis --endpoint 127.0.0.1:6379
//            --edges 127.0.0.1:6380,127.0.0.1:6381 --rate 1000 --duration 30
//
// Propagation mode: --writers writers put keys prop/<run>/<n> to the origin at --rate on
// an absolute schedule; one poller per edge reads the acknowledged ones back there, one
// read in flight, and a write counts as visible on an edge at the completion of the first
// successful read of it or of any write committed after it (replicas apply in commit
// order; with several writers that order is the sequence each acknowledgement carries).
// Reported: acknowledged -> visible per edge, over all edges and on ALL edges (per write,
// the slowest edge). propagation_runner.h and visibility_tracker.h give the exact rules.
//
// Exit codes: 0 the run completed (errors, if any, are in the report); 1 a node is
// unreachable or setup failed (nothing printed on stdout); 2 bad flags, or a --trace-csv
// path that cannot be written; 3 the run completed and its report is printed, but not
// one measured operation (propagation: not one write) succeeded; 4 (propagation) the
// report is printed, but some acknowledged write was never seen on some edge within
// --drain; 5 (propagation) the report is printed, but writing --trace-csv failed (3 and
// 4 take precedence).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "tools/kv_bench/bench_namespace.h"
#include "tools/kv_bench/bench_options.h"
#include "tools/kv_bench/bench_report.h"
#include "tools/kv_bench/bench_runner.h"
#include "tools/kv_bench/kv_propagation_store.h"
#include "tools/kv_bench/propagation_report.h"
#include "tools/kv_bench/propagation_runner.h"
#include "tools/kv_bench/redis_client.h"
#include "tools/kv_bench/redis_propagation_store.h"

namespace {

constexpr char kFooter[] = R"txt(Examples:
  # gets of 100-byte values, 16 clients, 10,000 preloaded keys, 10 s after a 2 s warmup
  kv-bench --endpoint 127.0.0.1:7400 --mode get --concurrency 16 --keys 10000 \
           --value-size 100 --duration 10 --warmup 2
  # 8 concurrent 25 MiB puts, reporting the node's peak memory, as JSON
  kv-bench --endpoint 127.0.0.1:7400 --mode put --value-size 26214400 --concurrency 8 \
           --requests 8 --keys 8 --node-pid "$(pgrep -n kv-node)" --json

  # propagation: 1000 writes/s for 30 s to the origin, visibility on two edges
  kv-bench --mode propagation --endpoint 127.0.0.1:7500 \
           --edges 127.0.0.1:7501,127.0.0.1:7502 --rate 1000 --duration 30
  # the same, reading the edges on their RESP ports (HGET <namespace> <key>)
  kv-bench --mode propagation --endpoint 127.0.0.1:7500 --edge-reads resp \
           --edges 127.0.0.1:6501,127.0.0.1:6502 --rate 1000 --duration 30
  # the same, writing with KV.PUT on the origin's RESP port too (as Redis is written)
  kv-bench --mode propagation --endpoint 127.0.0.1:7500 --origin-resp 127.0.0.1:6500 \
           --edge-reads resp --edges 127.0.0.1:6501,127.0.0.1:6502 --writers 16
  # the same against a Redis master and its replicas
  kv-bench --mode propagation --backend redis --endpoint 127.0.0.1:6379 \
           --edges 127.0.0.1:6380,127.0.0.1:6381 --rate 1000 --duration 30

Latencies are per SDK call (no retries), successful calls only, in milliseconds;
percentiles are exact (nearest rank). Throughput counts successful calls.

Propagation mode measures, for each write, the time from the origin's acknowledgement
to the moment it is readable on each edge:
  - --writers writers put keys prop/<run>/<n> (n zero-padded, 0, 1, 2, ...) to
    --endpoint, write n due at start + n/rate. Open loop: a slow call does not move the
    schedule; writes that fell due meanwhile start as soon as a writer is free, and none
    starts after the schedule's end ("not issued"). Each writer has one call in flight.
    With one writer writes commit in index order; with several (EdgeKV only) their
    commit order is the replication sequence each acknowledgement carries.
    "late" counts writes started > 1 ms after their due time; the achieved rate is
    acknowledged writes / time from the end of the warmup to the last write's return.
    Acknowledged = when the Put (--origin-resp: KV.PUT; Redis: SET) returned.
  - For each edge, with one Get (--edge-reads resp: HGET on the edge's RESP port;
    Redis: GET) in flight, kv-bench reads the oldest acknowledged
    write (in commit order) not yet seen there; after a hit it reads 1, 3, 7, ... writes further ahead
    (never past the newest acknowledged) to find the end of a batch; when it has seen
    every acknowledged write it waits for the next acknowledgement and reads that write.
    It never reads a write before its acknowledgement. Reads that miss are spaced
    --poll-interval-us apart (0: back to back); the report gives each edge's read round
    trip (its resolution) and how many reads it made (load on the edges). With
    --pollers one (the default for RESP and Redis reads) a single thread keeps every
    edge's read going, waking once per event rather than once per edge and event;
    --pollers per-edge gives each edge a thread of its own (always, for gRPC reads;
    use it too where an edge's host may stop answering, since reconnecting to it
    blocks the one thread for up to --timeout).
  - Replicas apply writes in commit order, so a write is visible on an edge at the
    completion time of the first successful read of it or of any later one (an upper
    bound, late by at most one read). Delay = visible - acknowledged. "visible on ALL
    edges" is, per write, its largest delay over the edges.
  - Writes whose call failed are left out. After the last write, pollers keep reading
    for up to --drain s; writes still unseen are "never" (exit status 4).
  - Before measuring, a marker write must be readable on every edge (--timeout).

Exit status: 0 done; 1 node unreachable or setup failed; 2 bad flags; 3 report
printed but no measured operation succeeded; 4 (propagation) report printed but some
write was never seen on some edge.)txt";

// Returns 8 random hex digits naming a propagation run's keys.
std::string NewRunId() {
  absl::BitGen gen;
  return absl::StrFormat("%08x", absl::Uniform<uint32_t>(gen));
}

// Connects to a Redis node, or to an EdgeKV node's RESP port (`hash`: the namespace
// it reads with HGET and writes with KV.PUT), and checks it answers PING.
absl::StatusOr<std::unique_ptr<kv::bench::PropagationStore>> ConnectRespStore(
    const std::string& endpoint, absl::Duration timeout, const std::string& hash = "") {
  absl::StatusOr<std::unique_ptr<kv::bench::RedisClient>> client =
      kv::bench::RedisClient::Connect(endpoint, timeout);
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->Ping(); !s.ok()) return s;
  return std::make_unique<kv::bench::RedisPropagationStore>(std::move(*client), hash);
}

// Builds the stores, runs the propagation measurement and prints its report; returns
// the exit status (see the header comment).
int RunPropagation(const kv::bench::BenchOptions& options, bool json,
                   const std::string& trace_csv) {
  // Written to FILE.tmp, opened first so a path that cannot be written fails before a
  // long run, and renamed to FILE once complete (a failed run leaves no partial trace).
  std::ofstream trace;
  const std::string trace_tmp = trace_csv + ".tmp";
  absl::Cleanup drop_trace_tmp = [&] {  // a no-op once renamed
    if (!trace_csv.empty()) std::remove(trace_tmp.c_str());
  };
  if (!trace_csv.empty()) {
    trace.open(trace_tmp, std::ios::out | std::ios::trunc);
    if (!trace) {
      std::fprintf(stderr, "kv-bench: cannot write --trace-csv %s: %s\n", trace_csv.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }
  std::vector<std::unique_ptr<kv::bench::PropagationStore>> writers;
  std::vector<std::unique_ptr<kv::bench::PropagationStore>> edges;
  std::string namespace_id = options.namespace_id;
  const absl::Duration timeout = options.setup_timeout;
  if (options.backend == kv::bench::Backend::kRedis) {
    absl::StatusOr<std::unique_ptr<kv::bench::PropagationStore>> master =
        ConnectRespStore(options.endpoint, timeout);
    if (!master.ok()) {
      std::fprintf(stderr, "kv-bench: %s\n", master.status().ToString().c_str());
      return 1;
    }
    writers.push_back(std::move(*master));
    for (const std::string& endpoint : options.edges) {
      absl::StatusOr<std::unique_ptr<kv::bench::PropagationStore>> replica =
          ConnectRespStore(endpoint, timeout);
      if (!replica.ok()) {
        std::fprintf(stderr, "kv-bench: %s\n", replica.status().ToString().c_str());
        return 1;
      }
      edges.push_back(std::move(*replica));
    }
  } else {
    // Setup calls may retry; measured calls may not, so each failure is one call's cost.
    kv::ClientOptions setup_options{.endpoint = options.endpoint, .timeout = timeout};
    kv::ClientOptions call_options = setup_options;
    call_options.retry.max_attempts = 1;
    if (namespace_id.empty()) {
      absl::StatusOr<std::string> id =
          kv::bench::ResolveBenchNamespace(kv::Client::Connect(setup_options));
      if (!id.ok()) {
        std::fprintf(stderr, "kv-bench: cannot use the origin at %s: %s\n",
                     options.endpoint.c_str(), id.status().ToString().c_str());
        return 1;
      }
      namespace_id = *id;
    }
    for (int w = 0; w < options.writers; ++w) {
      if (!options.origin_resp.empty()) {
        absl::StatusOr<std::unique_ptr<kv::bench::PropagationStore>> writer =
            ConnectRespStore(options.origin_resp, timeout, namespace_id);
        if (!writer.ok()) {
          std::fprintf(stderr, "kv-bench: cannot use the origin's RESP port %s: %s\n",
                       options.origin_resp.c_str(), writer.status().ToString().c_str());
          return 1;
        }
        writers.push_back(std::move(*writer));
        continue;
      }
      writers.push_back(std::make_unique<kv::bench::KvPropagationStore>(call_options, namespace_id));
    }
    for (const std::string& endpoint : options.edges) {
      if (options.edge_reads_resp) {
        absl::StatusOr<std::unique_ptr<kv::bench::PropagationStore>> edge =
            ConnectRespStore(endpoint, timeout, namespace_id);
        if (!edge.ok()) {
          std::fprintf(stderr, "kv-bench: cannot use the RESP port %s: %s\n",
                       endpoint.c_str(), edge.status().ToString().c_str());
          return 1;
        }
        edges.push_back(std::move(*edge));
        continue;
      }
      call_options.endpoint = endpoint;
      edges.push_back(std::make_unique<kv::bench::KvPropagationStore>(call_options, namespace_id));
    }
  }

  kv::bench::PropagationRunner runner(options, std::move(writers), std::move(edges),
                                      NewRunId());
  if (absl::Status s = runner.Prepare(); !s.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  absl::StatusOr<kv::bench::PropagationResult> result = runner.Run();
  if (!result.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  if (options.backend == kv::bench::Backend::kEdgeKv) result->namespace_id = namespace_id;
  const std::string report = json ? kv::bench::FormatPropagationJson(*result) + "\n"
                                  : kv::bench::FormatPropagationTable(*result);
  std::fputs(report.c_str(), stdout);
  std::fflush(stdout);
  bool trace_failed = false;
  if (trace.is_open()) {
    runner.WriteTrace(trace);
    trace.close();
    trace_failed = !trace || std::rename(trace_tmp.c_str(), trace_csv.c_str()) != 0;
    if (trace_failed) {
      std::fprintf(stderr, "kv-bench: writing --trace-csv %s failed: %s\n", trace_csv.c_str(),
                   std::strerror(errno));
    }
  }
  if (result->visibility.measured_writes == 0) {
    std::fprintf(stderr, "kv-bench: no write succeeded (%lld errors): %s\n",
                 static_cast<long long>(result->write_errors), result->first_write_error.c_str());
    return 3;
  }
  if (result->visibility.never_seen > 0) {
    std::fprintf(stderr, "kv-bench: %lld (write, edge) pairs never seen within the %.0f s drain\n",
                 static_cast<long long>(result->visibility.never_seen),
                 absl::ToDoubleSeconds(options.drain));
    return 4;
  }
  return trace_failed ? 5 : 0;
}

int Run(int argc, char** argv) {
  kv::bench::BenchOptions options;
  std::string mode = "get", backend = "edgekv", edge_reads = "grpc";
  double duration_s = 10, warmup_s = 0, timeout_s = 60, drain_s = 30, poll_interval_us = 0;
  bool json = false;
  std::string trace_csv;

  CLI::App app{
      "kv-bench: measures an EdgeKV node's throughput and latency with N closed-loop "
      "workers (each keeps one call in flight) over the C++ SDK; with --mode propagation, "
      "how long a write to the origin takes to become readable on every edge (EdgeKV, or "
      "Redis replicas with --backend redis)."};
  app.footer(kFooter);
  app.add_option("--endpoint", options.endpoint,
                 "Node to benchmark, host:port (propagation: the origin, or the Redis master)")
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "get: Get random preloaded keys; put: Put random keys (durable writes); "
                 "list: page through the preloaded keys with List; mixed: gets and puts "
                 "(see --read-ratio); propagation: write to --endpoint at --rate and time "
                 "until each write is readable on every --edges node (see below)")
      ->capture_default_str()
      ->check(CLI::IsMember({"get", "put", "list", "mixed", "propagation"}));
  app.add_option("--edges", options.edges,
                 "Propagation: the edges (Redis: replicas) to poll, host:port,host:port,...")
      ->delimiter(',');
  app.add_option("--rate", options.rate, "Propagation: writes per second (open loop)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--writers", options.writers,
                 "Propagation: writer threads, one write in flight each; above 1 needs "
                 "--backend edgekv (the commit order comes from each write's sequence)")
      ->capture_default_str()
      ->check(CLI::Range(1, kv::bench::kMaxPropagationWriters));
  app.add_option("--backend", backend,
                 "Propagation: edgekv (the SDK) or redis (SET on --endpoint, GET on --edges)")
      ->capture_default_str()
      ->check(CLI::IsMember({"edgekv", "redis"}));
  app.add_option("--edge-reads", edge_reads,
                 "Propagation, EdgeKV: how pollers read the edges: grpc (kv.v1.KV/Get) or resp "
                 "(HGET on each edge's RESP port; --edges are then those ports)")
      ->capture_default_str()
      ->check(CLI::IsMember({"grpc", "resp"}));
  app.add_option("--origin-resp", options.origin_resp,
                 "Propagation, EdgeKV: write with KV.PUT on the origin's RESP port at this "
                 "HOST:PORT instead of kv.v1.KV/Put (the namespace is still set up over "
                 "--endpoint)");
  app.add_option("--drain", drain_s,
                 "Propagation: seconds to keep polling after the last write for writes not "
                 "yet seen everywhere (ends early once all are seen)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--poll-interval-us", poll_interval_us,
                 "Propagation: least microseconds between the starts of two reads of an "
                 "edge when the first found nothing (0 = back to back: best resolution)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  std::string pollers = "one";
  app.add_option("--pollers", pollers,
                 "Propagation: 'one' thread polls every edge (waiting on all connections at "
                 "once; RESP reads only, else each edge gets a thread) or 'per-edge' "
                 "threads, one blocking read each")
      ->capture_default_str()
      ->check(CLI::IsMember({"one", "per-edge"}));
  app.add_option("--concurrency", options.concurrency, "Worker threads (concurrent calls)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--channels", options.channels,
                 "gRPC channels (separate connections) shared by the workers; "
                 "default min(concurrency, 4)")
      ->check(CLI::PositiveNumber);
  app.add_option("--keys", options.keys,
                 "Key space; keys are drawn uniformly at random. get/list/mixed preload "
                 "them all with BulkPut first")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--value-size", options.value_size,
                 "Bytes per value (preload and puts), at most 26214400 (25 MiB)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{26214400}));
  app.add_option("--duration", duration_s, "Seconds to measure (ignored with --requests)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup_s, "Seconds of unrecorded load before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--requests", options.requests,
                 "Stop after this many measured operations instead of after --duration "
                 "(0 = use --duration)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--namespace-id", options.namespace_id,
                 "Namespace to use (default: reuse or create the one titled \"kv-bench\")");
  app.add_option("--key-prefix", options.key_prefix,
                 "Keys are this prefix plus a zero-padded index; list mode lists it")
      ->capture_default_str();
  app.add_option("--list-limit", options.list_limit, "Page size of list calls (1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--read-ratio", options.read_ratio,
                 "Share of gets in mixed mode, 0..1 (the rest are puts)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--node-pid", options.node_pid,
                 "Sample this process's /proc/<pid>/status every 10 ms during the run and "
                 "report its peak VmRSS, peak RssAnon (its own memory), peak RssFile "
                 "(mmapped files: LevelDB's tables in the page cache) and VmHWM; the node "
                 "must run on this machine")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", timeout_s,
                 "Deadline of each call, seconds (propagation: also how long the marker write "
                 "may take to reach every edge before measuring)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "Print one JSON object instead of the table");
  app.add_option("--trace-csv", trace_csv,
                 "Propagation: also write every measured write to this CSV file, in commit "
                 "order: position, key index, acknowledged at (ms from the start), then its "
                 "delay on each edge in --edges order (ms; empty if never seen)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every flag error exits 2 (see the header comment).
    return app.exit(e) == 0 ? 0 : 2;
  }

  absl::StatusOr<kv::bench::Mode> parsed_mode = kv::bench::ParseMode(mode);
  if (!parsed_mode.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", std::string(parsed_mode.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<kv::bench::Backend> parsed_backend = kv::bench::ParseBackend(backend);
  if (!parsed_backend.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", std::string(parsed_backend.status().message()).c_str());
    return 2;
  }
  options.mode = *parsed_mode;
  options.backend = *parsed_backend;
  options.edge_reads_resp = edge_reads == "resp";
  options.duration = absl::Seconds(duration_s);
  options.warmup = absl::Seconds(warmup_s);
  options.drain = absl::Seconds(drain_s);
  options.poll_interval = absl::Microseconds(poll_interval_us);
  options.single_poller = pollers == "one";
  options.setup_timeout = absl::Seconds(timeout_s);
  if (absl::Status s = kv::bench::ValidateOptions(options); !s.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (!trace_csv.empty() && options.mode != kv::bench::Mode::kPropagation) {
    std::fprintf(stderr, "kv-bench: --trace-csv applies only to --mode propagation\n");
    return 2;
  }
  if (options.mode == kv::bench::Mode::kPropagation)
    return RunPropagation(options, json, trace_csv);

  // Setup calls may retry; measured calls may not, so each failure is one call's cost.
  kv::ClientOptions setup_options{.endpoint = options.endpoint,
                                  .timeout = absl::Seconds(timeout_s)};
  kv::ClientOptions worker_options = setup_options;
  worker_options.retry.max_attempts = 1;
  std::vector<kv::Client> channels;
  for (int i = 0; i < kv::bench::EffectiveChannels(options); ++i) {
    channels.push_back(kv::Client::Connect(worker_options));
  }
  kv::bench::BenchRunner runner(options, kv::Client::Connect(setup_options), std::move(channels));

  const bool tty = isatty(STDERR_FILENO) == 1;
  absl::Status prepared = runner.Prepare([tty](int64_t done, int64_t total) {
    if (!tty) return;
    std::fprintf(stderr, "\rpreloading keys: %lld / %lld", static_cast<long long>(done),
                 static_cast<long long>(total));
    if (done == total) std::fprintf(stderr, "\n");
  });
  if (!prepared.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", prepared.ToString().c_str());
    return 1;
  }
  absl::StatusOr<kv::bench::BenchResult> result = runner.Run();
  if (!result.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const std::string report =
      json ? kv::bench::FormatJson(*result) + "\n" : kv::bench::FormatTable(*result);
  std::fputs(report.c_str(), stdout);
  std::fflush(stdout);
  if (result->ops == 0) {
    std::fprintf(stderr, "kv-bench: no operation succeeded (%lld errors): %s\n",
                 static_cast<long long>(result->errors), result->first_error.c_str());
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a global graph
  // behind one lock): measurable CPU on a busy node. The tests keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv-bench: fatal: %s\n", e.what());
    return 1;
  }
}
