#include "replication/replication_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

struct ReplicationService::StreamState {
  absl::Mutex mu;
  SubscribeReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
};

// One subscriber's stream. Its pump runs on the executor; a callback that fires after
// the stream ended finds `alive == false` in the shared state and does nothing.
class ReplicationService::SubscribeReactor final : public grpc::ServerWriteReactor<v1::LogBatch> {
 public:
  SubscribeReactor(ReplicationService* service, const v1::SubscribeRequest* request)
      : service_(service), follow_(request->follow()), state_(std::make_shared<StreamState>()) {
    state_->reactor = this;
    service_->metrics_->AddSubscribers(1);
    if (!service_->Register(state_)) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "node is shutting down"));
      return;
    }
    absl::StatusOr<uint64_t> first = FirstToSend(*service_->store_, *request);
    if (!first.ok()) {
      FinishLocked(ToGrpcStatus(first.status()));
      return;
    }
    cursor_.emplace(service_->store_, service_->metrics_, service_->options_, *first);
    Schedule();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&state_->mu);
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "subscriber went away"));
      return;
    }
    Schedule();
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mu);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "subscriber cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    service_->metrics_->AddSubscribers(-1);
    delete this;
  }

 private:
  // Runs Pump() on the executor unless the stream has ended.
  void Schedule() {
    service_->executor_.Schedule([state = state_] {
      absl::MutexLock lock(&state->mu);
      if (state->reactor != nullptr) state->reactor->PumpLocked();
    });
  }

  // Sends the next part of the stream: the rest of a chunked value, a batch of entries,
  // a heartbeat, or (caught up without follow) the end.
  void PumpLocked() {
    if (finished_) return;
    absl::StatusOr<bool> filled = cursor_->Fill(&batch_);
    if (!filled.ok()) return FinishLocked(ToGrpcStatus(filled.status()));
    if (*filled) {
      StartWrite(&batch_);
      return;
    }
    if (!follow_) return FinishLocked(grpc::Status::OK);  // caught up
    if (heartbeat_due_) {
      heartbeat_due_ = false;
      StartWrite(&batch_);
      return;
    }
    // Wait for the next commit (or the heartbeat) without holding a thread.
    WaitLocked(cursor_->next(), absl::Now() + service_->options_.heartbeat, /*lingering=*/false);
  }

  // Waits until the store reaches `seq` or `deadline`, then runs WokenLocked on the
  // executor. The waiter may fire at once, on this thread, under this lock: it only
  // queues the call.
  void WaitLocked(uint64_t seq, absl::Time deadline, bool lingering) {
    service_->store_->WaitForSequence(
        seq, deadline,
        [scheduler = service_->scheduler_, state = state_, lingering](bool reached) {
          // The store may fire this after the service is gone (at its own shutdown).
          absl::MutexLock gate(&scheduler->mu);
          if (scheduler->executor == nullptr) return;
          scheduler->executor->Schedule([state, reached, lingering] {
            absl::MutexLock lock(&state->mu);
            if (state->reactor != nullptr) state->reactor->WokenLocked(reached, lingering);
          });
        });
  }

  // After an idle wait: a commit (reached) or the heartbeat. After a linger: whatever
  // accumulated.
  void WokenLocked(bool reached, bool lingering) {
    if (finished_) return;  // ended (cancelled, stopped) before OnDone: no cursor left
    if (!lingering) {
      heartbeat_due_ = !reached;
      if (reached) {
        if (std::optional<absl::Time> until = cursor_->LingerUntil(absl::Now())) {
          WaitLocked(cursor_->LingerTarget(), *until, /*lingering=*/true);
          return;
        }
      }
    }
    PumpLocked();
  }

  friend class ReplicationService;

  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    cursor_.reset();
    Finish(std::move(status));
  }

  ReplicationService* const service_;
  const bool follow_;
  std::shared_ptr<StreamState> state_;
  // Touched only under state_->mu.
  bool finished_ = false;
  bool heartbeat_due_ = false;
  std::optional<LogCursor> cursor_;  // set unless refused
  v1::LogBatch batch_;
};

ReplicationService::ReplicationService(storage::Store* store, ReplicationMetrics* metrics,
                                       ReplicationServiceOptions options)
    : store_(store),
      metrics_(metrics),
      options_(options),
      scheduler_(std::make_shared<Scheduler>()),
      executor_(options.threads) {
  scheduler_->executor = &executor_;
}

ReplicationService::~ReplicationService() {
  absl::MutexLock lock(&scheduler_->mu);
  scheduler_->executor = nullptr;
}

bool ReplicationService::Register(const std::shared_ptr<StreamState>& state) {
  absl::MutexLock lock(&streams_mu_);
  if (stopped_) return false;
  std::erase_if(streams_, [](const std::weak_ptr<StreamState>& w) { return w.expired(); });
  streams_.push_back(state);
  return true;
}

void ReplicationService::Stop() {
  tcp_port_ = 0;  // subscribers asking now follow over gRPC, which refuses them too
  if (tcp_) tcp_->Stop();
  std::vector<std::weak_ptr<StreamState>> streams;
  {
    absl::MutexLock lock(&streams_mu_);
    stopped_ = true;
    streams.swap(streams_);
  }
  for (const std::weak_ptr<StreamState>& weak : streams) {
    std::shared_ptr<StreamState> state = weak.lock();
    if (!state) continue;
    absl::MutexLock lock(&state->mu);
    if (state->reactor != nullptr) {
      state->reactor->FinishLocked(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "node is shutting down"));
    }
  }
}

absl::Status ReplicationService::ServeTcp(const std::string& host, int port) {
  if (tcp_) return absl::FailedPreconditionError("the TCP stream is already served");
  KV_ASSIGN_OR_RETURN(tcp_, StreamServer::Start(store_, metrics_, options_, host, port));
  tcp_port_ = tcp_->port();
  return absl::OkStatus();
}

int ReplicationService::tcp_port() const { return tcp_port_.load(); }

grpc::ServerUnaryReactor* ReplicationService::StreamAddress(
    grpc::CallbackServerContext* call, const v1::StreamAddressRequest* /*request*/,
    v1::StreamAddressResponse* response) {
  response->set_port(tcp_port_.load());
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::LogBatch>* ReplicationService::Subscribe(
    grpc::CallbackServerContext* call, const v1::SubscribeRequest* request) {
  return new SubscribeReactor(this, request);
}

}  // namespace kv::replication
