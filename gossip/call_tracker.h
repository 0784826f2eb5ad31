#ifndef KV_GOSSIP_CALL_TRACKER_H_
#define KV_GOSSIP_CALL_TRACKER_H_

// The client calls a component has in flight, so that shutting it down cancels them
// instead of waiting out their deadlines (a repair stream may run for a minute).
// Thread-safe.

#include <grpcpp/client_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kv::gossip {

class CallTracker {
 public:
  // A client context with a deadline, tracked while it lives. ok() is false (and the
  // call must not be started) once the tracker was shut down.
  class Call {
   public:
    Call(CallTracker* tracker, absl::Duration timeout) : tracker_(tracker) {
      context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
      ok_ = tracker_->Add(&context_);
    }
    ~Call() {
      if (ok_) tracker_->Remove(&context_);
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    bool ok() const { return ok_; }
    grpc::ClientContext* context() { return &context_; }

   private:
    CallTracker* const tracker_;
    grpc::ClientContext context_;
    bool ok_ = false;
  };

  // Cancels every tracked call and refuses new ones.
  void Shutdown() {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (grpc::ClientContext* context : contexts_) context->TryCancel();
  }

 private:
  bool Add(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return false;
    contexts_.insert(context);
    return true;
  }
  void Remove(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    contexts_.erase(context);
  }

  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::gossip

#endif  // KV_GOSSIP_CALL_TRACKER_H_
