// kv-bench: closed-loop load generator and latency/throughput meter for an EdgeKV node.
//
//   kv-bench --endpoint 127.0.0.1:7400 --mode get --concurrency 16 --keys 10000
//            --value-size 100 --duration 10 --warmup 2
//   kv-bench --endpoint 127.0.0.1:7400 --mode put --value-size 26214400 --concurrency 8
//            --requests 8 --keys 8 --node-pid 1234 --json
//
// Exit codes: 0 the run completed (errors, if any, are in the report); 1 the node is
// unreachable or setup failed (nothing printed on stdout); 2 bad flags; 3 the run
// completed and its report is printed, but not one measured operation succeeded.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "tools/kv_bench/bench_options.h"
#include "tools/kv_bench/bench_report.h"
#include "tools/kv_bench/bench_runner.h"

namespace {

constexpr char kFooter[] = R"txt(Examples:
  # gets of 100-byte values, 16 clients, 10,000 preloaded keys, 10 s after a 2 s warmup
  kv-bench --endpoint 127.0.0.1:7400 --mode get --concurrency 16 --keys 10000 \
           --value-size 100 --duration 10 --warmup 2
  # 8 concurrent 25 MiB puts, reporting the node's peak memory, as JSON
  kv-bench --endpoint 127.0.0.1:7400 --mode put --value-size 26214400 --concurrency 8 \
           --requests 8 --keys 8 --node-pid "$(pgrep -n kv-node)" --json

Latencies are per SDK call (no retries), successful calls only, in milliseconds;
percentiles are exact (nearest rank). Throughput counts successful calls.
Exit status: 0 done; 1 node unreachable or setup failed; 2 bad flags; 3 report
printed but no measured operation succeeded.)txt";

int Run(int argc, char** argv) {
  kv::bench::BenchOptions options;
  std::string mode = "get";
  double duration_s = 10, warmup_s = 0, timeout_s = 60;
  bool json = false;

  CLI::App app{
      "kv-bench: measures an EdgeKV node's throughput and latency with N closed-loop "
      "workers (each keeps one call in flight) over the C++ SDK."};
  app.footer(kFooter);
  app.add_option("--endpoint", options.endpoint, "Node to benchmark, host:port")
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "get: Get random preloaded keys; put: Put random keys (durable writes); "
                 "list: page through the preloaded keys with List; mixed: gets and puts "
                 "(see --read-ratio)")
      ->capture_default_str()
      ->check(CLI::IsMember({"get", "put", "list", "mixed"}));
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
  app.add_option("--timeout", timeout_s, "Deadline of each call, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "Print one JSON object instead of the table");
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
  options.mode = *parsed_mode;
  options.duration = absl::Seconds(duration_s);
  options.warmup = absl::Seconds(warmup_s);
  if (absl::Status s = kv::bench::ValidateOptions(options); !s.ok()) {
    std::fprintf(stderr, "kv-bench: %s\n", std::string(s.message()).c_str());
    return 2;
  }

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
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv-bench: fatal: %s\n", e.what());
    return 1;
  }
}
