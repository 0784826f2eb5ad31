#include "storage/sequence_waiters.h"

#include <vector>

#include "absl/time/clock.h"
#include "common/thread_name.h"

namespace kv::storage {

SequenceWaiters::SequenceWaiters(uint64_t applied) : applied_(applied) {
  thread_ = std::thread([this] {
    SetCurrentThreadName("kv-seq-wait");
    DeadlineLoop();
  });
}

SequenceWaiters::~SequenceWaiters() {
  std::vector<Done> pending;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [id, w] : waiters_) pending.push_back(std::move(w.done));
    waiters_.clear();
  }
  thread_.join();
  for (Done& done : pending) done(false);
}

void SequenceWaiters::Wait(uint64_t seq, absl::Time deadline, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (applied_ < seq && !stopping_) {
      waiters_.emplace(next_id_++, Waiter{seq, deadline, std::move(done)});
      if (deadline < next_wake_) kick_ = true;  // sooner than the deadline thread plans
      return;
    }
  }
  done(!stopping_);
}

void SequenceWaiters::Advance(uint64_t applied) {
  std::vector<Done> reached;
  {
    absl::MutexLock lock(&mu_);
    applied_ = std::max(applied_, applied);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.seq <= applied_) {
        reached.push_back(std::move(it->second.done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Done& done : reached) done(true);
}

void SequenceWaiters::DeadlineLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [id, w] : waiters_) next = std::min(next, w.deadline);
    // Wakes for the earliest deadline, a waiter with an earlier one, or stop.
    next_wake_ = next;
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || kick_; };
    mu_.AwaitWithDeadline(absl::Condition(&woken), next);
    kick_ = false;
    std::vector<Done> expired;
    const absl::Time now = absl::Now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    if (expired.empty()) continue;
    mu_.Unlock();
    for (Done& done : expired) done(false);
    mu_.Lock();
  }
}

}  // namespace kv::storage
