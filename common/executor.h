#ifndef KV_COMMON_EXECUTOR_H_
#define KV_COMMON_EXECUTOR_H_

// A fixed pool of threads running queued closures in FIFO order. Used to move work
// (LevelDB reads, stream pumping) off threads that must not block: gRPC reactors and
// the storage committer. Thread-safe.

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace kv {

class Executor {
 public:
  explicit Executor(int threads);
  // Runs every closure already queued, then joins the threads.
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `fn`. After destruction has begun, `fn` is dropped unrun.
  void Schedule(absl::AnyInvocable<void()> fn);

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace kv

#endif  // KV_COMMON_EXECUTOR_H_
