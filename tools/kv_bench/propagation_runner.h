#ifndef KV_TOOLS_KV_BENCH_PROPAGATION_RUNNER_H_
#define KV_TOOLS_KV_BENCH_PROPAGATION_RUNNER_H_

// kv-bench --mode propagation: how long a write acknowledged by the origin takes to become
// readable on every edge.
//
// Prepare() writes a marker key to the origin and waits until every edge reads it, so the
// namespace and the replication streams are up and every connection is open. Run() then:
// - options.writers writer threads write keys prop/<run>/<n> (n zero-padded, so keys sort
//   in write order) to the origin on an absolute schedule: write n is due at start +
//   n / rate. It is open loop: a slow call does not push the schedule back; the writers
//   take the due writes in turn, each with one call in flight, so writes that fell due
//   meanwhile start as soon as a writer is free. A write that starts more than
//   kBehindScheduleSlack after its due time counts as behind schedule. No write starts
//   after the schedule's end (start + warmup + duration): writers that fell behind leave
//   the rest unissued, so a run takes its duration (plus the drain) however slow the
//   store. The achieved rate is acknowledged writes / elapsed time. One writer keeps
//   writes in index order; with several, the order they committed in comes from the
//   sequence each acknowledgement carries (visibility_tracker.h).
// - For each edge a poller, with one read in flight at a time, reads the oldest
//   acknowledged write (in commit order) not yet seen on its edge; after a successful read it reads further
//   ahead (ChooseProbe: 1, 3, 7, ... writes past the oldest unseen, never past the newest
//   acknowledged) to find the end of a batch applied at once; when it has seen every
//   acknowledged write it waits for the next acknowledgement and reads that write. It
//   never reads a write before its acknowledgement: that window is not measured, and on
//   a machine the nodes share, reads are CPU taken from them. Reads that find nothing are
//   spaced by options.poll_interval (0: back to back); a failed read is retried after
//   kProbeErrorBackoff. With options.single_poller and stores that read without
//   blocking (RESP), one thread runs every edge's poller, waiting on all connections at
//   once and woken by the writers through an eventfd: one wake-up per event, where a
//   thread per edge (otherwise) takes one per edge and event, CPU taken from the nodes
//   on a shared machine. Sending a read still blocks: reconnecting to an edge whose host
//   does not answer (rather than refusing) holds every edge's reads up to --timeout, so
//   measure such edges with a thread each. visibility_tracker.h describes how reads become visibility times
//   (first successful read of the write or of any later one; its completion time).
// - After the last write, pollers keep reading until their edge has seen every write or
//   options.drain has passed; writes still unseen then are reported as never seen.
// Writes scheduled during options.warmup are made and followed but not reported.
//
// Thread safety: not thread-safe; call Prepare() then Run() once from one thread. Each
// store is used by exactly one thread (its writer, or its edge's poller thread, or the
// one poller thread).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/kv_bench/bench_options.h"
#include "tools/kv_bench/latency_recorder.h"
#include "tools/kv_bench/propagation_store.h"
#include "tools/kv_bench/rss_sampler.h"
#include "tools/kv_bench/visibility_tracker.h"

namespace kv::bench {

// A write that starts later than this after its due time is "behind schedule".
inline constexpr absl::Duration kBehindScheduleSlack = absl::Milliseconds(1);
// Pause before a poller retries after a failed read (an edge that is down must not be
// hammered).
inline constexpr absl::Duration kProbeErrorBackoff = absl::Milliseconds(5);

// What one edge's poller did.
struct EdgeProbeStats {
  std::string endpoint;
  int64_t probes = 0;  // reads made, successful or not (after Prepare)
  int64_t hits = 0;    // reads that found their write
  int64_t errors = 0;  // reads that failed, by status code name below
  std::map<std::string, int64_t> errors_by_code;
  std::string first_error;
  // Round trip of each read that did not fail: the poller's resolution on this edge.
  LatencySummary probe_rtt;
};

struct PropagationResult {
  BenchOptions options;
  std::string run_id;        // keys are prop/<run_id>/<n>
  std::string namespace_id;  // EdgeKV only (set by the caller)
  // The wall-clock time of the run's time zero: a trace's acked_ms counts from it, so
  // the trace lines up with the nodes' logs (LevelDB's LOG, say).
  absl::Time start;
  // Writes scheduled after the warmup, and what became of them.
  int64_t scheduled_writes = 0;
  int64_t unissued_writes = 0;  // not started by the schedule's end (the writer fell behind)
  int64_t write_errors = 0;     // failed Put/SET calls, by status code name below
  std::map<std::string, int64_t> write_errors_by_code;
  std::string first_write_error;
  // From the end of the warmup until the writer's last call returned.
  absl::Duration elapsed;
  int64_t behind_schedule = 0;   // measured writes that started late (see above)
  absl::Duration max_behind;     // the latest start among them, after the due time
  LatencySummary write_latency;  // successful measured writes, as the writer saw them
  // From the writer's last call until the last poller stopped (<= options.drain unless
  // a read was still in flight).
  absl::Duration drain;
  // CPU time (user + system) kv-bench itself used during Run(): on a machine the nodes
  // share, what the measurement took from them.
  absl::Duration client_cpu;
  VisibilityStats visibility;         // the measured writes, per edge and over all edges
  std::vector<EdgeProbeStats> edges;  // in options.edges order
  bool one_poller = false;            // one thread polled every edge (else one per edge)
  std::optional<RssReport> node_memory;
};

// Returns acknowledged measured writes per second of `elapsed` (0 if elapsed is 0).
double AchievedRate(const PropagationResult& result);

// Returns the key of write `index` of `count` in run `run_id`: "prop/<run_id>/<index>",
// the index zero-padded to the width of count - 1.
std::string PropagationKey(const std::string& run_id, int64_t index, int64_t count);

class PropagationRunner {
 public:
  // `writers` (options.writers stores, all on the origin) take the writes; `edges` (one
  // per options.edges entry, same order) are polled. `run_id` names this run's keys: it
  // must be unique among runs against the same data (main() draws it at random).
  // REQUIRES: ValidateOptions(options).ok(), options.mode == Mode::kPropagation, no null
  // stores.
  PropagationRunner(BenchOptions options, std::vector<std::unique_ptr<PropagationStore>> writers,
                    std::vector<std::unique_ptr<PropagationStore>> edges, std::string run_id);

  // Writes the marker key prop/<run_id>/ready to the origin, then waits until every edge
  // reads it, for at most options.setup_timeout in all. INVALID_ARGUMENT if the store
  // counts do not match the options; UNAVAILABLE "cannot write to the origin ..." if the
  // write fails; FAILED_PRECONDITION if there are several writers and the store reports
  // no commit sequence; DEADLINE_EXCEEDED naming the first edge that did not show the
  // marker in time, with its last read error if any.
  absl::Status Prepare();

  // Runs the measurement and returns its figures. FAILED_PRECONDITION if Prepare() has
  // not succeeded or Run() was called before, or the sampler's error if
  // options.node_pid cannot be read.
  absl::StatusOr<PropagationResult> Run();

  // After Run(): writes every measured write's acknowledgement time and delay on each
  // edge as CSV (VisibilityTracker::WriteCsv), to see when the slow ones happened.
  // Writes nothing before Run().
  void WriteTrace(std::ostream& out) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct WriterStats;

  Clock::time_point DueTime(int64_t index) const;
  void Write(int writer, WriterStats* stats);
  // What a poller keeps per edge, whichever way it polls.
  struct EdgePoller {
    int hits_in_row = 0;  // successful reads in a row (ChooseProbe reads further ahead)
    LatencyRecorder rtt;
    std::map<absl::StatusCode, int64_t> errors;
  };
  // Counts a failed read.
  static void CountFailure(const absl::Status& status, EdgeProbeStats* stats, EdgePoller* p);
  // Counts a read of position `target` on `edge` that answered `visible`, made from
  // `begin` to `end`; a hit makes the write (and every earlier one) visible there.
  void CountAnswer(int edge, int64_t target, bool visible, Clock::time_point begin,
                   Clock::time_point end, EdgeProbeStats* stats, EdgePoller* p);
  // Moves what `p` gathered into `stats` once polling has ended.
  static void FinishStats(const EdgePoller& p, EdgeProbeStats* stats);
  // Returns the key a poller reads next and sets `*target` to its position: ChooseProbe's
  // pick, moved back past failed writes (never below `oldest`).
  std::string ProbeKey(int64_t oldest, int64_t answered, int hits_in_row, int64_t* target) const;
  void Poll(int edge, EdgeProbeStats* stats);
  // The same reads for every edge from one thread, waiting on all their connections at
  // once (options.single_poller, every edge store with a poll_fd()). Returns when every
  // edge has seen every write or the drain deadline passes; `stopped[e]` is then set.
  void PollAll(std::vector<EdgeProbeStats>* stats, std::vector<Clock::time_point>* stopped);
  // Tells PollAll that a write was answered (or the writes finished).
  void WakePoller();
  absl::Duration Since(Clock::time_point t) const { return absl::FromChrono(t - start_); }

  // Constant after construction.
  const BenchOptions options_;
  const std::vector<std::unique_ptr<PropagationStore>> writers_;
  const std::vector<std::unique_ptr<PropagationStore>> edges_;
  const std::string run_id_;
  const int64_t writes_;         // scheduled in all, warmup included
  const int64_t warmup_writes_;  // the first ones, not reported

  bool prepared_ = false;
  bool ran_ = false;
  // The marker write's commit sequence (0: the store reports none); set by Prepare().
  // Write n's position in commit order is its sequence - marker_sequence_ - 1.
  uint64_t marker_sequence_ = 0;

  // Set by Run() before any thread starts; read-only afterwards.
  Clock::time_point start_;
  std::unique_ptr<VisibilityTracker> tracker_;
  // When the pollers must give up: set by the last writer when it finishes (start_ +
  // this).
  std::atomic<int64_t> drain_deadline_ns_{INT64_MAX};
  std::atomic<int64_t> next_write_{0};  // the next write index a writer takes
  std::atomic<int> writers_left_{0};    // writers still running
  // An eventfd the writers signal after each answer, when PollAll runs; else -1.
  int wake_fd_ = -1;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_PROPAGATION_RUNNER_H_
