#ifndef KV_TOOLS_KV_BENCH_VISIBILITY_TRACKER_H_
#define KV_TOOLS_KV_BENCH_VISIBILITY_TRACKER_H_

// The bookkeeping of kv-bench --mode propagation: when the origin acknowledged each write,
// and when each write became visible on each edge.
//
// Method (what must stay true for the figures to mean "time until visible"):
// - Writes are tracked by their position in the origin's commit order. With one writer
//   that makes each write only after the previous one was answered, the position is the
//   write's index (Redis). With several writers, the origin reports the sequence each
//   write committed at and the position is that sequence less the run's first one
//   (EdgeKV); acknowledgements then arrive out of order, and a position counts as answered
//   once it and every position before it has been answered.
// - Pollers read only writes answered (acknowledged or failed) so far: a write's
//   acknowledgement time is when the writer's Put/SET returned, and reading earlier would
//   spend reads (CPU the nodes share) on a window that is not measured.
// - Replicas apply writes in commit order. So a successful read of the write at position
//   n on an edge proves every earlier acknowledged write is readable there too: the first
//   successful read of n *or of any later position* marks n visible on that edge
//   (ObserveVisible).
// - A write's visibility time on an edge is the completion time of that first successful
//   read: an upper bound, late by at most the gap between the start of the last read that
//   missed (or the acknowledgement) and the end of this one (the poller's resolution).
//   Both times are read from the same monotonic clock in the same process, as offsets
//   from the run's start, so delay = visible - acknowledged is never negative.
// - Failed writes (the Put returned an error) may or may not have been committed: they are
//   left out of every figure and pollers skip them. With several writers a failed write's
//   position is unknown; if it committed anyway, its position stays unanswered (pollers
//   wait below it) until FinishWrites() marks it failed.
// - "Visible on all edges" of a write is its largest delay over the edges; a write missing
//   on any edge has none and is counted in never_on_all_edges.
//
// Thread safety: thread-safe. The writers and every edge's poller share one tracker; each
// call takes one mutex for O(1) work (ObserveVisible: amortised O(1) per write and edge).

#include <cstdint>
#include <ostream>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/kv_bench/latency_recorder.h"

namespace kv::bench {

// The figures of one edge, over the measured acknowledged writes.
struct EdgeVisibility {
  LatencySummary delay;    // acknowledged -> visible, for the writes seen here
  int64_t seen = 0;        // measured writes seen here
  int64_t never_seen = 0;  // measured writes never seen here
};

struct VisibilityStats {
  int64_t measured_writes = 0;  // acknowledged writes from first_measured on
  int64_t failed_writes = 0;    // writes from first_measured on that failed
  std::vector<EdgeVisibility> edges;
  LatencySummary all_edges;        // every (write, edge) delay together
  LatencySummary on_all_edges;     // per write: its largest delay over the edges
  int64_t never_seen = 0;          // (write, edge) pairs never seen
  int64_t never_on_all_edges = 0;  // measured writes missing on at least one edge
};

// Returns the write an edge's poller should read next, given the oldest write not yet
// seen there, the newest write answered, and how many reads in a row just succeeded:
// the oldest unseen write while the last read missed, then, after each hit, a write
// further ahead (1, 3, 7, ... past the oldest unseen, never past the newest answered),
// so a batch applied at once is found in O(log n) reads instead of one read per write.
// REQUIRES: 0 <= oldest_unseen <= newest_answered, consecutive_hits >= 0.
int64_t ChooseProbe(int64_t oldest_unseen, int64_t newest_answered, int consecutive_hits);

class VisibilityTracker {
 public:
  // Tracks positions 0 .. capacity - 1 on `edges` edges: 16 bytes per position and edge
  // (plus 32 per position), allocated here. REQUIRES: capacity >= 0, edges >= 1.
  VisibilityTracker(int64_t capacity, int edges);

  VisibilityTracker(const VisibilityTracker&) = delete;
  VisibilityTracker& operator=(const VisibilityTracker&) = delete;

  // --- The writers ---
  // Records that the write of key `key_index` committed at `position` was acknowledged at
  // `at`. Returns false (and records nothing) if `position` is outside the capacity, was
  // answered before, or FinishWrites() was called.
  bool WriteAcked(int64_t position, int64_t key_index, absl::Duration at);
  // Records that the write of key `key_index` at `position` failed: it leaves every
  // figure, and pollers skip it. Returns false as WriteAcked.
  bool WriteFailed(int64_t position, int64_t key_index);
  // Records that no more writes will follow: positions below the newest answered one
  // that are still unanswered count as failed. Wakes pollers blocked in AwaitAnswered.
  void FinishWrites();

  // --- The pollers ---
  // Records that a read of position `position` on `edge` succeeded, completing at `at`:
  // that write and every earlier one not yet seen on `edge` become visible there at `at`.
  // REQUIRES: 0 <= edge < edges(), 0 <= position < answered(); `at` not earlier than the
  // previous observation on `edge` nor than the acknowledgement of `position`.
  void ObserveVisible(int edge, int64_t position, absl::Duration at);
  // Returns the oldest answered position that has not failed and is not yet seen on
  // `edge`, or answered() if there is none.
  int64_t OldestUnseen(int edge) const;
  // Returns the number of positions answered, in order, so far (the newest is
  // answered() - 1).
  int64_t answered() const;
  // Returns the key index of the acknowledged write at `position` (-1 if none).
  int64_t KeyIndex(int64_t position) const;
  // Returns whether FinishWrites() was called.
  bool finished() const;
  // Blocks until position `position` has been answered, FinishWrites() is called or
  // `timeout` passes; returns whether it has been answered.
  bool AwaitAnswered(int64_t position, absl::Duration timeout) const;

  // --- After the run ---
  // Returns the figures over writes with key index >= first_measured (earlier ones are
  // the warmup), as described in the header comment.
  VisibilityStats Summarize(int64_t first_measured) const;
  // Writes one CSV line per measured acknowledged write, in commit order: its position,
  // key index, acknowledgement time (ms since the run's start) and delay on each edge (ms
  // with 3 decimals; empty if never seen), after a header line.
  void WriteCsv(std::ostream& out, int64_t first_measured) const;

 private:
  enum class Outcome : uint8_t { kPending, kAcked, kFailed };

  int64_t OldestUnseenLocked(int edge) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Acknowledged -> visible of the write at `position` on `edge`; InfiniteDuration() if
  // never seen there.
  absl::Duration DelayLocked(int edge, size_t position) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Answer(int64_t position, int64_t key_index, Outcome outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const int64_t capacity_;
  const int edges_;

  mutable absl::Mutex mu_;
  int64_t answered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t newest_ ABSL_GUARDED_BY(mu_) = -1;  // the newest position answered
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Outcome> outcome_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> key_index_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> acked_at_ ABSL_GUARDED_BY(mu_);
  // visible_at_[edge][position]: InfiniteDuration() until seen.
  std::vector<std::vector<absl::Duration>> visible_at_ ABSL_GUARDED_BY(mu_);
  // next_unseen_[edge]: every position below it is seen on that edge (or was skipped as
  // failed); positions from it on have not been observed.
  std::vector<int64_t> next_unseen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_VISIBILITY_TRACKER_H_
