#include "replication/replication_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "replication/shipping.h"

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
      : service_(service),
        follow_(request->follow()),
        next_(request->from_sequence()),
        state_(std::make_shared<StreamState>()) {
    state_->reactor = this;
    service_->metrics_->SetSubscribers(++service_->subscribers_);
    if (!service_->Register(state_)) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "node is shutting down"));
      return;
    }
    storage::Store* store = service_->store_;
    if (request->epoch() != 0 && request->epoch() != store->Epoch()) {
      FinishLocked(grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("epoch mismatch: subscriber holds log lineage ", request->epoch(),
                       ", this node ", store->Epoch(), "; the subscriber must repair")));
      return;
    }
    if (next_ == 0) next_ = 1;
    if (next_ < store->LogStart()) {
      FinishLocked(grpc::Status(
          grpc::StatusCode::OUT_OF_RANGE,
          absl::StrCat("log entry ", next_, " is no longer retained (the log starts at ",
                       store->LogStart(), "); the subscriber must repair")));
      return;
    }
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
    service_->metrics_->SetSubscribers(--service_->subscribers_);
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
    storage::Store* store = service_->store_;
    batch_.Clear();
    batch_.set_epoch(store->Epoch());
    batch_.set_sender_applied_sequence(store->AppliedSequence());
    if (blob_) {
      absl::StatusOr<std::string> chunk = blob_->ReadChunk(next_chunk_++);
      if (!chunk.ok()) return FinishLocked(ToGrpcStatus(chunk.status()));
      service_->metrics_->AddPushed(0, static_cast<int64_t>(chunk->size()));
      batch_.set_continuation(std::move(*chunk));
      if (next_chunk_ == blob_->ref().chunk_count()) blob_.reset();
      StartWrite(&batch_);
      return;
    }
    absl::StatusOr<std::vector<storage::ShippedEntry>> entries = store->ReadLog(
        next_, service_->options_.batch_entries, service_->options_.batch_bytes);
    if (!entries.ok()) return FinishLocked(ToGrpcStatus(entries.status()));
    if (entries->empty()) {
      if (!follow_) return FinishLocked(grpc::Status::OK);  // caught up
      if (heartbeat_due_) {
        heartbeat_due_ = false;
        StartWrite(&batch_);
        return;
      }
      // Wait for the next commit (or the heartbeat) without holding a thread.
      WaitLocked(next_, absl::Now() + service_->options_.heartbeat, /*lingering=*/false);
      return;
    }
    int64_t bytes = 0;
    for (storage::ShippedEntry& e : *entries) {
      v1::LogEntry* out = batch_.add_entries();
      if (absl::Status s = EntryToProto(e, out); !s.ok()) return FinishLocked(ToGrpcStatus(s));
      if (out->has_record()) bytes += static_cast<int64_t>(out->record().value_chunk().size());
      if (e.record && e.record->blob && e.record->blob->ref().chunk_count() > 1) {
        blob_ = std::move(e.record->blob);  // the rest follows as continuations
        next_chunk_ = 1;
      }
    }
    next_ = entries->back().seq + 1;
    service_->metrics_->AddPushed(static_cast<int64_t>(entries->size()), bytes);
    last_batch_ = absl::Now();
    StartWrite(&batch_);
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
    if (!lingering) {
      heartbeat_due_ = !reached;
      if (reached && LingerLocked()) return;
    }
    PumpLocked();
  }

  // New entries arrived on an idle stream: if the last batch left less than
  // min_batch_interval ago, waits for the rest of it (or a full batch) before pumping,
  // and returns true.
  bool LingerLocked() {
    const absl::Time now = absl::Now();
    if (now >= last_batch_ + service_->options_.min_batch_interval) return false;
    // Never longer than a heartbeat: the subscriber must keep hearing from us.
    const absl::Time due = std::min(last_batch_ + service_->options_.min_batch_interval,
                                    now + service_->options_.heartbeat);
    WaitLocked(next_ + static_cast<uint64_t>(service_->options_.batch_entries) - 1, due,
               /*lingering=*/true);
    return true;
  }

  friend class ReplicationService;

  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    blob_.reset();
    Finish(std::move(status));
  }

  ReplicationService* const service_;
  const bool follow_;
  uint64_t next_;
  std::shared_ptr<StreamState> state_;
  // Touched only under state_->mu.
  bool finished_ = false;
  bool heartbeat_due_ = false;
  absl::Time last_batch_ = absl::InfinitePast();  // when the last entries were sent
  v1::LogBatch batch_;
  std::unique_ptr<storage::BlobReader> blob_;
  uint32_t next_chunk_ = 0;
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

grpc::ServerWriteReactor<v1::LogBatch>* ReplicationService::Subscribe(
    grpc::CallbackServerContext* call, const v1::SubscribeRequest* request) {
  return new SubscribeReactor(this, request);
}

}  // namespace kv::replication
