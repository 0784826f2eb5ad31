#ifndef KV_STORAGE_GROUP_COMMITTER_H_
#define KV_STORAGE_GROUP_COMMITTER_H_

// Invariants / thread safety
// - All writes to the database are made one group at a time, in submission order, by the
//   committer thread, or (SubmitAndWait on an idle committer) by the waiting caller
//   itself, which saves two thread switches per write on a replica applying its stream.
//   Jobs queued while a synced write is in progress are folded into the next group and
//   made durable by one fsync, which is what keeps durable throughput high under many
//   concurrent writers.
// - A job's `apply` runs on the committing thread and sees the writes of earlier jobs in
//   the same group (Txn's overlay). A job whose `apply` fails is dropped whole; the
//   others of its group still commit.
// - `done` callbacks and hooks run on the committing thread after the group's write has
//   returned, in submission order. They must be quick and must not block.
// - An exclusive job (namespace changes) commits in a group of its own, so its effects
//   are published before any later job is applied.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "leveldb/db.h"
#include "storage/txn.h"

namespace kv::storage {

struct GroupCommitterOptions {
  // A group closes once its jobs' declared bytes reach this (a larger single job still
  // commits alone). Bigger groups amortise fsync further but delay acknowledgements.
  size_t max_group_bytes = 8 << 20;
  // A group closes at this many jobs.
  size_t max_group_jobs = 4096;
};

class GroupCommitter {
 public:
  using ApplyFn = absl::AnyInvocable<absl::Status(Txn&)>;
  using DoneFn = absl::AnyInvocable<void(absl::Status)>;

  struct Hooks {
    // Called on the committing thread (the committer's, or SubmitAndWait's caller) with
    // the group's last sequence number before its batch is written, to add bookkeeping
    // (applied sequence, clock high-water mark).
    std::function<void(uint64_t sequence, leveldb::WriteBatch&)> before_write;
    // Called after a group is written (durable if it was synced), with its last sequence
    // number and whether it was written with fsync.
    std::function<void(uint64_t sequence, bool synced)> after_write;
    // Called with each group's size, write duration and status (metrics).
    std::function<void(size_t jobs, size_t bytes, double seconds, const absl::Status&)> observe;
  };

  // Starts the committer thread. `db` must outlive this object. `sequence` is the last
  // sequence number already applied.
  GroupCommitter(leveldb::DB* db, GroupCommitterOptions options, Hooks hooks, uint64_t sequence);
  // Commits every queued job, then stops the thread.
  ~GroupCommitter();

  // Queues a job. `bytes` approximates what it writes (for grouping). A group is written
  // with fsync if any of its jobs is `sync`; others reach the OS but not necessarily the
  // disk before `done` (a crash of the process loses nothing, a power loss may lose
  // them, atomically, with the sequence they advanced; on a store that holds unsynced
  // log records, StoreOptions::LogWrites::kHeld, a crash of the process may too). After
  // Stop() has begun, `done` runs at once with UNAVAILABLE.
  void Submit(ApplyFn apply, DoneFn done, size_t bytes, bool exclusive = false, bool sync = true);

  // Submits a job and waits for its result. If no group is being committed and none is
  // queued, commits it on the calling thread. Must not be called from a `done` callback
  // or a hook.
  absl::Status SubmitAndWait(ApplyFn apply, size_t bytes, bool exclusive = false,
                             bool sync = true);

  // Returns the number of jobs queued but not yet committed.
  size_t QueueDepth() const;

 private:
  struct Job {
    ApplyFn apply;
    DoneFn done;
    size_t bytes;
    bool exclusive;
    bool sync;
    absl::Status result;
  };

  void Run();
  void CommitGroup(std::deque<Job>& group);

  leveldb::DB* const db_;
  const GroupCommitterOptions options_;
  const Hooks hooks_;

  // Only touched by the thread committing a group (committing_ serialises them).
  uint64_t sequence_;

  mutable absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool committing_ ABSL_GUARDED_BY(mu_) = false;  // a group is being committed

  std::thread thread_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_GROUP_COMMITTER_H_
