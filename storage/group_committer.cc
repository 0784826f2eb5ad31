#include "storage/group_committer.h"

#include <optional>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/thread_name.h"
#include "storage/leveldb_status.h"

namespace kv::storage {

GroupCommitter::GroupCommitter(leveldb::DB* db, GroupCommitterOptions options, Hooks hooks,
                               uint64_t sequence)
    : db_(db), options_(options), hooks_(std::move(hooks)), sequence_(sequence) {
  thread_ = std::thread([this] {
    SetCurrentThreadName("kv-commit");
    Run();
  });
}

GroupCommitter::~GroupCommitter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void GroupCommitter::Submit(ApplyFn apply, DoneFn done, size_t bytes, bool exclusive,
                            bool sync) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(apply), std::move(done), bytes, exclusive, sync, {}});
      return;
    }
  }
  done(absl::UnavailableError("storage is shutting down"));
}

absl::Status GroupCommitter::SubmitAndWait(ApplyFn apply, size_t bytes, bool exclusive,
                                           bool sync) {
  absl::Notification finished;
  absl::Status result;
  DoneFn done = [&](absl::Status s) {
    result = std::move(s);
    finished.Notify();
  };
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("storage is shutting down");
    if (committing_ || !queue_.empty()) {
      queue_.push_back(Job{std::move(apply), std::move(done), bytes, exclusive, sync, {}});
      apply = nullptr;
    } else {
      committing_ = true;  // idle: this thread commits the group of one itself
    }
  }
  if (apply != nullptr) {
    std::deque<Job> group;
    group.push_back(Job{std::move(apply), std::move(done), bytes, exclusive, sync, {}});
    CommitGroup(group);
    absl::MutexLock lock(&mu_);
    committing_ = false;  // the committer thread re-checks its queue on unlock
  }
  finished.WaitForNotification();
  return result;
}

size_t GroupCommitter::QueueDepth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void GroupCommitter::Run() {
  while (true) {
    std::deque<Job> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](GroupCommitter* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
            return !c->committing_ && (!c->queue_.empty() || c->stopping_);
          },
          this));
      if (queue_.empty()) return;  // stopping and drained
      // Take jobs up to the group limits; an exclusive job always travels alone.
      size_t bytes = 0;
      while (!queue_.empty() && group.size() < options_.max_group_jobs) {
        Job& next = queue_.front();
        if (!group.empty() && (next.exclusive || group.front().exclusive ||
                               bytes + next.bytes > options_.max_group_bytes)) {
          break;
        }
        bytes += next.bytes;
        group.push_back(std::move(next));
        queue_.pop_front();
      }
      committing_ = true;
    }
    CommitGroup(group);
    absl::MutexLock lock(&mu_);
    committing_ = false;
  }
}

void GroupCommitter::CommitGroup(std::deque<Job>& group) {
  Overlay overlay;
  leveldb::WriteBatch batch;
  std::vector<absl::AnyInvocable<void()>> on_durable;
  uint64_t sequence = sequence_;
  size_t bytes = 0;
  bool sync = false;
  std::optional<Txn> txn;  // the current job's
  for (size_t i = 0; i < group.size(); ++i) {
    Job& job = group[i];
    bytes += job.bytes;
    sync = sync || job.sync;
    txn.emplace(db_, &overlay, sequence);
    job.result = job.apply(*txn);
    if (!job.result.ok()) {  // dropped whole
      txn.reset();
      continue;
    }
    sequence = txn->sequence();
    if (group.size() == 1) break;  // written as it is, below
    batch.Append(txn->batch());
    if (i + 1 < group.size()) {  // what later jobs of the group read
      for (auto& [key, value] : txn->staged()) overlay[key] = std::move(value);
    }
    for (auto& action : txn->on_durable()) on_durable.push_back(std::move(action));
  }
  // A group of one (most of a replica's, applying its stream) writes its job's batch
  // itself: no copy into the group's, no overlay.
  const bool alone = group.size() == 1 && txn.has_value();
  if (alone) {
    on_durable = std::move(txn->on_durable());
  } else {
    txn.reset();
  }
  leveldb::WriteBatch& to_write = alone ? txn->batch() : batch;

  absl::Status status;
  if (to_write.ApproximateSize() > leveldb::WriteBatch().ApproximateSize()) {
    if (hooks_.before_write) hooks_.before_write(sequence, to_write);
    leveldb::WriteOptions options;
    options.sync = sync;
    const absl::Time start = absl::Now();
    status = FromLevelDbStatus(db_->Write(options, &to_write));
    if (hooks_.observe) {
      hooks_.observe(group.size(), bytes, absl::ToDoubleSeconds(absl::Now() - start), status);
    }
    if (status.ok()) {
      sequence_ = sequence;
      for (auto& action : on_durable) action();
      if (hooks_.after_write) hooks_.after_write(sequence, sync);
    }
  }
  for (Job& job : group) {
    job.done(status.ok() ? std::move(job.result) : status);
  }
}

}  // namespace kv::storage
