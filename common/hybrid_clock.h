#ifndef KV_COMMON_HYBRID_CLOCK_H_
#define KV_COMMON_HYBRID_CLOCK_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace kv {

// A hybrid logical clock timestamp packed into 64 bits: the high 48 bits are physical
// milliseconds since the Unix epoch, the low 16 bits a logical counter. Packed values
// compare in timestamp order, and adding 1 to a value whose counter is full carries into
// the next millisecond, which is exactly the HLC rule.
using HlcTimestamp = uint64_t;

constexpr HlcTimestamp MakeHlc(uint64_t wall_ms, uint16_t logical) {
  return (wall_ms << 16) | logical;
}
constexpr uint64_t HlcWallMillis(HlcTimestamp ts) { return ts >> 16; }
constexpr uint16_t HlcLogical(HlcTimestamp ts) { return static_cast<uint16_t>(ts & 0xffff); }

// Issues strictly increasing hybrid logical clock timestamps that never fall behind a
// persisted high-water mark, so a node restarted with its wall clock set back never
// reissues an older timestamp. Thread-safe.
class HybridClock {
 public:
  // `clock` must outlive this object. `high_water` is the largest timestamp ever issued
  // or observed (0 on a fresh node).
  HybridClock(const Clock* clock, HlcTimestamp high_water)
      : clock_(clock), last_(high_water) {}

  // Returns a timestamp greater than every one returned or observed before.
  HlcTimestamp Now();
  // Records a timestamp seen from another node so later Now() values exceed it.
  void Observe(HlcTimestamp remote);
  // Returns the largest timestamp issued or observed so far.
  HlcTimestamp HighWater() const;

 private:
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  HlcTimestamp last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv

#endif  // KV_COMMON_HYBRID_CLOCK_H_
