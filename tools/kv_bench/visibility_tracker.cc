#include "tools/kv_bench/visibility_tracker.h"

#include <algorithm>
#include <iomanip>

namespace kv::bench {

int64_t ChooseProbe(int64_t oldest_unseen, int64_t newest_answered, int consecutive_hits) {
  const int shift = std::clamp(consecutive_hits, 0, 40);
  const int64_t ahead = (int64_t{1} << shift) - 1;
  return std::min(newest_answered, oldest_unseen + ahead);
}

VisibilityTracker::VisibilityTracker(int64_t capacity, int edges)
    : capacity_(capacity), edges_(edges) {
  absl::MutexLock lock(&mu_);
  const size_t n = static_cast<size_t>(capacity);
  outcome_.assign(n, Outcome::kPending);
  key_index_.assign(n, -1);
  acked_at_.assign(n, absl::InfiniteDuration());
  visible_at_.assign(static_cast<size_t>(edges),
                     std::vector<absl::Duration>(n, absl::InfiniteDuration()));
  next_unseen_.assign(static_cast<size_t>(edges), 0);
}

bool VisibilityTracker::Answer(int64_t position, int64_t key_index, Outcome outcome) {
  if (position < 0 || position >= capacity_ || finished_) return false;
  const size_t p = static_cast<size_t>(position);
  if (outcome_[p] != Outcome::kPending) return false;
  outcome_[p] = outcome;
  key_index_[p] = key_index;
  newest_ = std::max(newest_, position);
  while (answered_ < capacity_ && outcome_[static_cast<size_t>(answered_)] != Outcome::kPending) {
    ++answered_;
  }
  return true;
}

bool VisibilityTracker::WriteAcked(int64_t position, int64_t key_index, absl::Duration at) {
  absl::MutexLock lock(&mu_);
  if (!Answer(position, key_index, Outcome::kAcked)) return false;
  acked_at_[static_cast<size_t>(position)] = at;
  return true;
}

bool VisibilityTracker::WriteFailed(int64_t position, int64_t key_index) {
  absl::MutexLock lock(&mu_);
  return Answer(position, key_index, Outcome::kFailed);
}

void VisibilityTracker::FinishWrites() {
  absl::MutexLock lock(&mu_);
  for (int64_t i = answered_; i <= newest_; ++i) {
    Outcome& o = outcome_[static_cast<size_t>(i)];
    if (o == Outcome::kPending) o = Outcome::kFailed;
  }
  answered_ = std::max(answered_, newest_ + 1);
  finished_ = true;
}

void VisibilityTracker::ObserveVisible(int edge, int64_t position, absl::Duration at) {
  absl::MutexLock lock(&mu_);
  if (edge < 0 || edge >= edges_ || position < 0) return;
  position = std::min(position, answered_ - 1);
  std::vector<absl::Duration>& visible = visible_at_[static_cast<size_t>(edge)];
  int64_t& next = next_unseen_[static_cast<size_t>(edge)];
  // Everything below `next` is already marked, so each write is marked once per edge.
  for (int64_t i = next; i <= position; ++i) visible[static_cast<size_t>(i)] = at;
  next = std::max(next, position + 1);
}

int64_t VisibilityTracker::OldestUnseenLocked(int edge) const {
  int64_t i = next_unseen_[static_cast<size_t>(edge)];
  while (i < answered_ && outcome_[static_cast<size_t>(i)] != Outcome::kAcked) ++i;
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

int64_t VisibilityTracker::KeyIndex(int64_t position) const {
  absl::MutexLock lock(&mu_);
  if (position < 0 || position >= capacity_) return -1;
  const size_t p = static_cast<size_t>(position);
  return outcome_[p] == Outcome::kAcked ? key_index_[p] : -1;
}

bool VisibilityTracker::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

bool VisibilityTracker::AwaitAnswered(int64_t position, absl::Duration timeout) const {
  auto ready = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return answered_ > position || finished_;
  };
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return answered_ > position;
}

absl::Duration VisibilityTracker::DelayLocked(int edge, size_t position) const {
  const absl::Duration visible = visible_at_[static_cast<size_t>(edge)][position];
  if (visible == absl::InfiniteDuration()) return visible;
  // Never negative when the REQUIRES of ObserveVisible hold; clamped all the same.
  return std::max(absl::ZeroDuration(), visible - acked_at_[position]);
}

VisibilityStats VisibilityTracker::Summarize(int64_t first_measured) const {
  absl::MutexLock lock(&mu_);
  VisibilityStats out;
  out.edges.resize(static_cast<size_t>(edges_));
  std::vector<std::vector<int64_t>> per_edge(static_cast<size_t>(edges_));
  std::vector<int64_t> all, on_all;
  for (int64_t i = 0; i < answered_; ++i) {
    const size_t w = static_cast<size_t>(i);
    // A failed write of unknown key (-1: a position no acknowledgement claimed) counts.
    if (key_index_[w] < first_measured && key_index_[w] != -1) continue;  // the warmup
    if (outcome_[w] != Outcome::kAcked) {
      ++out.failed_writes;
      continue;
    }
    ++out.measured_writes;
    int64_t slowest_us = 0;
    bool everywhere = true;
    for (int e = 0; e < edges_; ++e) {
      const absl::Duration delay = DelayLocked(e, w);
      EdgeVisibility& edge = out.edges[static_cast<size_t>(e)];
      if (delay == absl::InfiniteDuration()) {
        ++edge.never_seen;
        ++out.never_seen;
        everywhere = false;
        continue;
      }
      ++edge.seen;
      const int64_t delay_us = absl::ToInt64Microseconds(delay);
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

void VisibilityTracker::WriteCsv(std::ostream& out, int64_t first_measured) const {
  absl::MutexLock lock(&mu_);
  const std::ios::fmtflags flags = out.flags();
  const std::streamsize precision = out.precision();
  out << std::fixed << std::setprecision(3);  // microseconds, whatever the run's length
  out << "position,key_index,acked_ms";
  for (int e = 0; e < edges_; ++e) out << ",edge" << e << "_ms";
  out << "\n";
  for (int64_t i = 0; i < answered_; ++i) {
    const size_t w = static_cast<size_t>(i);
    if (outcome_[w] != Outcome::kAcked || key_index_[w] < first_measured) continue;
    out << i << ',' << key_index_[w] << ',' << absl::ToDoubleMilliseconds(acked_at_[w]);
    for (int e = 0; e < edges_; ++e) {
      const absl::Duration delay = DelayLocked(e, w);
      out << ',';
      if (delay != absl::InfiniteDuration()) out << absl::ToDoubleMilliseconds(delay);
    }
    out << '\n';
  }
  out.flags(flags);
  out.precision(precision);
}

}  // namespace kv::bench
