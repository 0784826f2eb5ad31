#ifndef KV_STORAGE_SEQUENCE_WAITERS_H_
#define KV_STORAGE_SEQUENCE_WAITERS_H_

// Callbacks waiting for a store to reach an applied sequence number, each with a
// deadline. An edge that forwarded a write to the origin waits here until replication
// has applied it locally, so the writer reads its own write at that edge.
// Thread-safe; callbacks run without the lock held, on the thread that advanced the
// sequence or on the deadline thread, and must not block.

#include <cstdint>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv::storage {

class SequenceWaiters {
 public:
  using Done = absl::AnyInvocable<void(bool reached)>;

  explicit SequenceWaiters(uint64_t applied);
  // Fires every remaining callback with false, then stops the deadline thread.
  ~SequenceWaiters();

  // Calls done(true) once the applied sequence is >= `seq` (at once if it already is),
  // or done(false) when `deadline` passes first.
  void Wait(uint64_t seq, absl::Time deadline, Done done);
  // Records a new applied sequence and fires the callbacks it satisfies.
  void Advance(uint64_t applied);

 private:
  struct Waiter {
    uint64_t seq;
    absl::Time deadline;
    Done done;
  };
  void DeadlineLoop();

  absl::Mutex mu_;
  uint64_t applied_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);  // by id
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // When the deadline thread will next look; a waiter due sooner sets kick_ to wake it.
  absl::Time next_wake_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool kick_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_SEQUENCE_WAITERS_H_
