#ifndef KV_TOOLS_KV_BENCH_BENCH_OPTIONS_H_
#define KV_TOOLS_KV_BENCH_BENCH_OPTIONS_H_

// What one kv-bench run does. kv_bench_main.cc fills this from flags; everything else
// reads it. Plain values, no behaviour beyond validation.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv::bench {

// kPropagation measures how long a write to the origin takes to become readable on every
// edge (propagation_runner.h); the others load one node (bench_runner.h).
enum class Mode { kGet, kPut, kList, kMixed, kPropagation };

// Returns the mode named `name` ("get", "put", "list", "mixed", "propagation");
// INVALID_ARGUMENT otherwise.
absl::StatusOr<Mode> ParseMode(absl::string_view name);
// Returns the flag spelling of `mode`.
const char* ModeName(Mode mode);

// What the propagation mode talks to: EdgeKV nodes over the SDK, or a Redis master and
// its replicas over RESP (redis_client.h). The other modes support only kEdgeKv.
enum class Backend { kEdgeKv, kRedis };

// Returns the backend named `name` ("edgekv", "redis"); INVALID_ARGUMENT otherwise.
absl::StatusOr<Backend> ParseBackend(absl::string_view name);
// Returns the flag spelling of `backend`.
const char* BackendName(Backend backend);

struct BenchOptions {
  // host:port of the node under test.
  std::string endpoint = "127.0.0.1:7400";
  Mode mode = Mode::kGet;
  // Worker threads, each with one call in flight at a time (closed loop).
  int concurrency = 16;
  // gRPC channels the workers share round-robin; 0 means min(concurrency, 4). Each channel
  // is its own kv::Client::Connect, i.e. its own TCP connection.
  int channels = 0;
  // Size of the key space; keys are drawn uniformly at random from it. get, list and mixed
  // preload every key before measuring.
  int64_t keys = 10000;
  // Bytes per value written (preload and puts). At most 25 MiB.
  int64_t value_size = 100;
  // How long to measure. Ignored when `requests` > 0.
  absl::Duration duration = absl::Seconds(10);
  // Closed-loop load before measuring whose operations are not recorded.
  absl::Duration warmup = absl::ZeroDuration();
  // If > 0, stop after this many measured operations (successful or not) instead of
  // after `duration`.
  int64_t requests = 0;
  // Namespace to use; empty means reuse-or-create the namespace titled kNamespaceTitle.
  std::string namespace_id;
  // Keys are `key_prefix` + a zero-padded index; list mode lists this prefix.
  std::string key_prefix = "kv-bench/";
  // Page size of list calls (1..1000).
  int list_limit = 100;
  // Share of mixed-mode operations that are gets (the rest are puts), in [0, 1].
  double read_ratio = 0.9;
  // If > 0, the pid of the node process whose memory is sampled during the run.
  int node_pid = 0;
  // Time between RSS samples.
  absl::Duration rss_interval = absl::Milliseconds(10);

  // --- Propagation mode (`endpoint` is the origin, or the Redis master) ---
  Backend backend = Backend::kEdgeKv;
  // host:port of every edge (Redis: every replica); each gets its own poller.
  std::vector<std::string> edges;
  // EdgeKV: read the edges over their RESP port (HGET <namespace> <key>; `edges` are
  // then those ports) instead of kv.v1.KV/Get.
  bool edge_reads_resp = false;
  // EdgeKV: if set, the origin's RESP port: writes are KV.PUT there instead of
  // kv.v1.KV/Put (the namespace is still set up through `endpoint`).
  std::string origin_resp;
  // Writes per second issued by the one writer, on an absolute schedule (write i is due
  // at start + i / rate); rate * (warmup + duration) writes in all.
  double rate = 1000;
  // Writer threads, each with one write in flight (1..256). Above 1 the commit order
  // comes from the sequence each acknowledgement carries, so only EdgeKV allows it.
  int writers = 1;
  // After the last write, how long pollers keep reading for writes not yet seen before
  // they are reported as never seen. Bounds the run; the drain ends as soon as every
  // edge has seen every write.
  absl::Duration drain = absl::Seconds(30);
  // Least time from the start of a read that found nothing to the start of the next
  // read of that edge. 0 reads back to back (best resolution: one call in flight per
  // edge whenever an acknowledged write is not yet seen there); larger values trade
  // resolution for load on a machine the nodes share.
  absl::Duration poll_interval = absl::ZeroDuration();
  // Propagation: poll every edge from one thread waiting on all their connections at
  // once (where the edge stores read without blocking: RESP), rather than from one
  // thread per edge. Same reads, same algorithm; on a machine the nodes share it takes
  // far fewer thread wake-ups from them (one per event instead of one per edge).
  bool single_poller = true;
  // How long Prepare() waits for its marker write to be readable on every edge.
  absl::Duration setup_timeout = absl::Seconds(60);
};

// Most writer threads of one propagation run.
inline constexpr int kMaxPropagationWriters = 256;

// Most writes one propagation run may schedule: the tracker keeps 16 bytes per write and
// edge, so 10 M writes to 8 edges is ~1.5 GB.
inline constexpr int64_t kMaxPropagationWrites = 10'000'000;

// Returns the number of writes a propagation run schedules: ceil(rate * (warmup +
// duration)), of which the first ceil(rate * warmup) are the warmup.
int64_t PropagationWrites(const BenchOptions& options);
int64_t PropagationWarmupWrites(const BenchOptions& options);

// Returns OK if `options` describe a runnable benchmark in its mode; INVALID_ARGUMENT naming
// the first offending option otherwise.
absl::Status ValidateOptions(const BenchOptions& options);

// Returns the number of channels to open: options.channels, or min(concurrency, 4) if 0.
int EffectiveChannels(const BenchOptions& options);

// Returns true if `mode` reads keys that must exist, i.e. needs a preload (get, list,
// mixed).
bool NeedsPreload(Mode mode);

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_BENCH_OPTIONS_H_
