#ifndef KV_GOSSIP_PUMPED_WRITE_REACTOR_H_
#define KV_GOSSIP_PUMPED_WRITE_REACTOR_H_

// A server-streaming reactor whose messages come from a producer run on an executor: the
// producer fills one message at a time, and the next is produced only after the previous
// one was sent, so a stream holds one message in memory however slow its reader, and
// (blocking) storage reads never run on gRPC threads.
//
// Invariants / thread safety
// - The producer runs only on the executor, under the shared state's mutex, and never
//   after OnDone: OnDone clears the state's reactor pointer under that mutex before the
//   reactor deletes itself, and a queued pump that finds it cleared does nothing.
// - At most one write is in flight: a pump is scheduled at the start and after each
//   completed write only.
// The executor must outlive every stream (the server is shut down before it is
// destroyed).

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/executor.h"
#include "common/grpc_status.h"

namespace kv::gossip {

template <typename Message>
class PumpedWriteReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  // Fills `out` with the next message and returns true, returns false once the stream is
  // complete (ends OK), or fails (ends the stream with that status).
  using Producer = absl::AnyInvocable<absl::StatusOr<bool>(Message* out)>;

  // Starts the stream: the first message is produced on `executor`.
  PumpedWriteReactor(Executor* executor, Producer producer)
      : executor_(executor), producer_(std::move(producer)), state_(std::make_shared<State>()) {
    state_->reactor = this;
    Schedule();
  }

  // Returns a reactor that ends the call at once with `status`.
  static PumpedWriteReactor* Failed(Executor* executor, const absl::Status& status) {
    return new PumpedWriteReactor(executor,
                                  [status](Message*) -> absl::StatusOr<bool> { return status; });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&state_->mu);
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "reader went away"));
      return;
    }
    Schedule();
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mu);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "reader cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    delete this;
  }

 private:
  struct State {
    absl::Mutex mu;
    PumpedWriteReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  };

  void Schedule() {
    executor_->Schedule([state = state_] {
      absl::MutexLock lock(&state->mu);
      if (state->reactor != nullptr) state->reactor->PumpLocked();
    });
  }

  void PumpLocked() {
    if (finished_) return;
    message_.Clear();
    absl::StatusOr<bool> more = producer_(&message_);
    if (!more.ok()) return FinishLocked(ToGrpcStatus(more.status()));
    if (!*more) return FinishLocked(grpc::Status::OK);
    this->StartWrite(&message_);
  }

  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    this->Finish(std::move(status));
  }

  Executor* const executor_;
  Producer producer_;
  std::shared_ptr<State> state_;
  // Touched only under state_->mu.
  bool finished_ = false;
  Message message_;
};

}  // namespace kv::gossip

#endif  // KV_GOSSIP_PUMPED_WRITE_REACTOR_H_
