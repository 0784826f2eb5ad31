#include "tools/kv_bench/visibility_tracker.h"

#include <algorithm>

namespace kv::bench {

int64_t ChooseProbe(int64_t oldest_unseen, int64_t newest_answered, int consecutive_hits) {
  const int shift = std::clamp(consecutive_hits, 0, 40);
  const int64_t ahead = (int64_t{1} << shift) - 1;
  return std::min(newest_answered, oldest_unseen + ahead);
}

VisibilityTracker::VisibilityTracker(int64_t capacity, int edges)
    : capacity_(capacity), edges_(edges) {
  absl::MutexLock lock(&mu_);
  acked_at_.assign(static_cast<size_t>(capacity), absl::InfiniteDuration());
  visible_at_.assign(
      static_cast<size_t>(edges),
      std::vector<absl::Duration>(static_cast<size_t>(capacity), absl::InfiniteDuration()));
  next_unseen_.assign(static_cast<size_t>(edges), 0);
}

void VisibilityTracker::WriteAcked(int64_t index, absl::Duration at) {
  absl::MutexLock lock(&mu_);
  if (index != answered_ || index >= capacity_ || finished_) return;  // REQUIRES violated
  acked_at_[static_cast<size_t>(index)] = at;
  answered_ = index + 1;
}

void VisibilityTracker::WriteFailed(int64_t index) {
  absl::MutexLock lock(&mu_);
  if (index != answered_ || index >= capacity_ || finished_) return;  // REQUIRES violated
  answered_ = index + 1;  // acked_at_ stays infinite: failed
}

void VisibilityTracker::FinishWrites() {
  absl::MutexLock lock(&mu_);
  finished_ = true;
}

void VisibilityTracker::ObserveVisible(int edge, int64_t index, absl::Duration at) {
  absl::MutexLock lock(&mu_);
  if (edge < 0 || edge >= edges_ || index < 0) return;
  index = std::min(index, answered_ - 1);
  std::vector<absl::Duration>& visible = visible_at_[static_cast<size_t>(edge)];
  int64_t& next = next_unseen_[static_cast<size_t>(edge)];
  // Everything below `next` is already marked, so each write is marked once per edge.
  for (int64_t i = next; i <= index; ++i) visible[static_cast<size_t>(i)] = at;
  next = std::max(next, index + 1);
}

int64_t VisibilityTracker::OldestUnseenLocked(int edge) const {
  int64_t i = next_unseen_[static_cast<size_t>(edge)];
  while (i < answered_ && acked_at_[static_cast<size_t>(i)] == absl::InfiniteDuration()) ++i;
  return i;
}

int64_t VisibilityTracker::OldestUnseen(int edge) const {
  absl::MutexLock lock(&mu_);
  return OldestUnseenLocked(edge);
}

int64_t VisibilityTracker::answered() const {
  absl::MutexLock lock(&mu_);
  return answered_;
}

bool VisibilityTracker::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

bool VisibilityTracker::AwaitAnswered(int64_t index, absl::Duration timeout) const {
  auto ready = [this, index]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return answered_ > index || finished_; };
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return answered_ > index;
}

VisibilityStats VisibilityTracker::Summarize(int64_t first_measured) const {
  absl::MutexLock lock(&mu_);
  VisibilityStats out;
  out.edges.resize(static_cast<size_t>(edges_));
  std::vector<std::vector<int64_t>> per_edge(static_cast<size_t>(edges_));
  std::vector<int64_t> all, on_all;
  for (int64_t i = std::max<int64_t>(first_measured, 0); i < answered_; ++i) {
    const size_t w = static_cast<size_t>(i);
    if (acked_at_[w] == absl::InfiniteDuration()) {
      ++out.failed_writes;
      continue;
    }
    ++out.measured_writes;
    int64_t slowest_us = 0;
    bool everywhere = true;
    for (int e = 0; e < edges_; ++e) {
      const absl::Duration visible = visible_at_[static_cast<size_t>(e)][w];
      EdgeVisibility& edge = out.edges[static_cast<size_t>(e)];
      if (visible == absl::InfiniteDuration()) {
        ++edge.never_seen;
        ++out.never_seen;
        everywhere = false;
        continue;
      }
      ++edge.seen;
      // Never negative when the REQUIRES of ObserveVisible hold; clamped all the same.
      const int64_t delay_us =
          std::max<int64_t>(0, absl::ToInt64Microseconds(visible - acked_at_[w]));
      per_edge[static_cast<size_t>(e)].push_back(delay_us);
      all.push_back(delay_us);
      slowest_us = std::max(slowest_us, delay_us);
    }
    if (everywhere) {
      on_all.push_back(slowest_us);
    } else {
      ++out.never_on_all_edges;
    }
  }
  for (int e = 0; e < edges_; ++e) {
    out.edges[static_cast<size_t>(e)].delay =
        kv::bench::Summarize(std::move(per_edge[static_cast<size_t>(e)]));
  }
  out.all_edges = kv::bench::Summarize(std::move(all));
  out.on_all_edges = kv::bench::Summarize(std::move(on_all));
  return out;
}

}  // namespace kv::bench
