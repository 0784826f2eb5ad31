#include "common/hybrid_clock.h"

#include <algorithm>

namespace kv {

HlcTimestamp HybridClock::Now() {
  const int64_t wall = absl::ToUnixMillis(clock_->Now());
  const HlcTimestamp physical = MakeHlc(wall < 0 ? 0 : static_cast<uint64_t>(wall), 0);
  absl::MutexLock lock(&mu_);
  last_ = std::max(physical, last_ + 1);
  return last_;
}

void HybridClock::Observe(HlcTimestamp remote) {
  absl::MutexLock lock(&mu_);
  last_ = std::max(last_, remote);
}

HlcTimestamp HybridClock::HighWater() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

}  // namespace kv
