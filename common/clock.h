#ifndef KV_COMMON_CLOCK_H_
#define KV_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv {

// Where a node reads the time. Production uses RealClock; tests use SimulatedClock so
// expiration and clock skew are exercised without sleeping. Implementations are
// thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // Returns the current wall-clock time.
  virtual absl::Time Now() const = 0;

  // Returns the process-wide real clock (never destroyed).
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : now_(start) {}

  absl::Time Now() const override;

  // Moves the clock by `d`, which may be negative (a wall clock set back).
  void Advance(absl::Duration d);
  // Sets the clock to `t`.
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv

#endif  // KV_COMMON_CLOCK_H_
