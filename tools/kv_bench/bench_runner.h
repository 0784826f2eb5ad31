#ifndef KV_TOOLS_KV_BENCH_BENCH_RUNNER_H_
#define KV_TOOLS_KV_BENCH_BENCH_RUNNER_H_

// Runs one benchmark against a node through the SDK: Prepare() checks the node answers,
// resolves the namespace and preloads the keys; Run() drives `concurrency` closed-loop
// workers and measures them.
//
// Measurement rules (what must stay true for the numbers to be honest):
// - With --requests, exactly the `requests` operations started after the warmup are
//   measured. Otherwise an operation is measured iff it starts before the deadline and
//   ends after the warmup (a call stalled across the warmup's end still counts), and the
//   elapsed time runs until the last of them finishes.
// - Latency is timed around the one SDK call with a monotonic clock; worker clients are
//   expected not to retry (main() sets max_attempts = 1) so a failure costs one call.
// - Failed calls count as errors by status code and never enter the latency figures.
//
// Thread safety: not thread-safe; call Prepare() then Run() once from one thread. The
// workers share only the Clients (thread-safe) and an atomic request counter.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "client/client.h"
#include "tools/kv_bench/bench_namespace.h"
#include "tools/kv_bench/bench_options.h"
#include "tools/kv_bench/bench_report.h"

namespace kv::bench {

class BenchRunner {
 public:
  // Called after each preload batch with keys written so far and the total.
  using ProgressFn = std::function<void(int64_t done, int64_t total)>;

  // `setup` makes the setup calls (it may retry); `channels` (at least one) are shared
  // round-robin by the workers. REQUIRES: ValidateOptions(options).ok().
  BenchRunner(BenchOptions options, kv::Client setup, std::vector<kv::Client> channels);

  // Calls the node once, then resolves the namespace (reusing or creating the one titled
  // "kv-bench" unless options.namespace_id is set), preloads the keys the mode reads, and
  // makes one call on each channel so connection set-up is not measured.
  // UNAVAILABLE "cannot reach node ..." if the first call gets no answer, NOT_FOUND for an
  // unknown --namespace-id, or the failing call's status with context.
  absl::Status Prepare(const ProgressFn& progress = nullptr);

  // Runs the workload and returns the measurements. FAILED_PRECONDITION if Prepare() has
  // not succeeded, or the sampler's error if options.node_pid cannot be read.
  absl::StatusOr<BenchResult> Run();

  const std::string& namespace_id() const { return namespace_id_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct WorkerStats;

  absl::Status Preload(const ProgressFn& progress);
  void Work(int index, WorkerStats* stats);

  // Constant after construction.
  const BenchOptions options_;
  const kv::Client setup_;
  const std::vector<kv::Client> channels_;

  // Set by Prepare().
  bool prepared_ = false;
  std::string namespace_id_;
  std::vector<std::string> keys_;

  // Set by Run() before start_ is notified; read-only for the workers after that.
  Clock::time_point measure_start_;
  Clock::time_point deadline_;
  absl::Notification start_;
  std::atomic<int64_t> issued_{0};  // measured operations claimed (with --requests)
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_BENCH_RUNNER_H_
