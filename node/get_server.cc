#include "node/get_server.h"

#include <algorithm>
#include <optional>

#include "common/grpc_status.h"
#include "common/thread_name.h"
#include "common/validation.h"
#include "node/rpc_metrics.h"
#include "storage/store.h"

namespace kv::node {

// One Get, from the request's arrival to its finish. The first message carries header,
// metadata and the start of the value; a chunked value follows one stored chunk per
// message, each read only after the previous one was sent, so a transfer holds about one
// chunk of memory. Its address is the tag of every operation it starts, one at a time;
// it deletes itself when the last one completes.
class GetServer::Call {
 public:
  Call(GetServer* server, grpc::ServerCompletionQueue* queue)
      : live_(server), ctx_(server->ctx_), queue_(queue) {
    server->service_->RequestGet(&server_context_, &request_, &writer_, queue_, queue_, this);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Called with each completed operation's `ok`.
  void Proceed(bool ok) {
    switch (state_) {
      case State::kWaiting:
        if (!ok) {  // the server is shutting down
          delete this;
          return;
        }
        new Call(live_.server, queue_);  // the next caller's
        timer_.emplace(ctx_->metrics, Method::kGet);
        Start();
        return;
      case State::kWriting:
        if (!ok) return FinishWith(absl::CancelledError("client went away during Get"));
        message_.Clear();  // later messages carry only value parts
        WriteNextChunk();
        return;
      case State::kFinishing:
        delete this;
        return;
    }
  }

 private:
  enum class State { kWaiting, kWriting, kFinishing };

  void Start() {
    absl::Status s = ctx_->CheckNamespace(request_.namespace_id());
    if (s.ok()) s = ValidateKey(request_.key());
    if (s.ok()) {
      s = ValidateCacheTtl(request_.has_cache_ttl() ? std::optional<int64_t>(request_.cache_ttl())
                                                    : std::nullopt);
    }
    if (!s.ok()) return FinishWith(s);
    absl::StatusOr<std::optional<storage::StoredValue>> got =
        ctx_->store->Get(request_.namespace_id(), request_.key(), ctx_->clock->Now());
    if (!got.ok()) return FinishWith(got.status());
    ctx_->FillHeader(message_.mutable_header());
    if (!got->has_value()) {
      message_.set_found(false);
      return WriteFinal();
    }
    storage::StoredValue& value = **got;
    message_.set_found(true);
    message_.set_value_size(value.size);
    if (request_.with_metadata()) {
      message_.set_expiration(value.expiration);
      if (value.metadata) message_.set_metadata(std::move(*value.metadata));
    }
    if (!value.blob) {
      message_.set_value_chunk(std::move(value.inline_value));
      if (ctx_->metrics) ctx_->metrics->AddValueBytesOut(value.size);
      return WriteFinal();
    }
    blob_ = std::move(value.blob);
    WriteNextChunk();
  }

  void WriteNextChunk() {
    absl::StatusOr<std::string> chunk = blob_->ReadChunk(next_chunk_++);
    if (!chunk.ok()) return FinishWith(chunk.status());
    if (ctx_->metrics) ctx_->metrics->AddValueBytesOut(static_cast<int64_t>(chunk->size()));
    message_.set_value_chunk(std::move(*chunk));
    if (next_chunk_ == blob_->ref().chunk_count()) return WriteFinal();
    state_ = State::kWriting;
    writer_.Write(message_, this);
  }

  // The last message goes out together with the status.
  void WriteFinal() {
    blob_.reset();
    timer_->Finish(grpc::StatusCode::OK);
    state_ = State::kFinishing;
    writer_.WriteAndFinish(message_, grpc::WriteOptions(), grpc::Status::OK, this);
  }

  void FinishWith(const absl::Status& status) {
    blob_.reset();  // release the snapshot as soon as possible
    grpc::Status g = ToGrpcStatus(status);
    timer_->Finish(g.error_code());
    state_ = State::kFinishing;
    writer_.Finish(g, this);
  }

  // Counts this call among the server's live ones from before its request until its
  // other members are gone (declared first, destroyed last).
  struct Liveness {
    explicit Liveness(GetServer* s) : server(s) { server->CallStarted(); }
    ~Liveness() { server->CallEnded(); }
    GetServer* const server;
  };

  Liveness live_;
  const ServiceContext* const ctx_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext server_context_;
  kv::v1::GetRequest request_;
  grpc::ServerAsyncWriter<kv::v1::GetResponse> writer_{&server_context_};
  State state_ = State::kWaiting;
  std::optional<RpcTimer> timer_;  // from the call's arrival
  kv::v1::GetResponse message_;
  std::unique_ptr<storage::BlobReader> blob_;
  uint32_t next_chunk_ = 0;
};

GetServer::GetServer(const ServiceContext* context, Service* service, grpc::ServerBuilder* builder,
                     int threads)
    : ctx_(context), service_(service) {
  if (threads <= 0) {
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 4);
  }
  for (int i = 0; i < threads; ++i) queues_.push_back(builder->AddCompletionQueue());
}

GetServer::~GetServer() { Shutdown(); }

void GetServer::Start() {
  if (started_) return;
  started_ = true;
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    grpc::ServerCompletionQueue* q = queue.get();
    new Call(this, q);
    threads_.emplace_back([q] {
      SetCurrentThreadName("kv-get");
      void* tag = nullptr;
      bool ok = false;
      while (q->Next(&tag, &ok)) static_cast<Call*>(tag)->Proceed(ok);
    });
  }
}

void GetServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* live) { return *live == 0; }, &live_calls_));
  }
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) queue->Shutdown();
  for (std::thread& t : threads_) t.join();
  if (!started_) {  // nothing was requested: the queues only need draining
    for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
      void* tag = nullptr;
      bool ok = false;
      while (queue->Next(&tag, &ok)) {
      }
    }
  }
}

void GetServer::CallStarted() {
  absl::MutexLock lock(&mu_);
  ++live_calls_;
}

void GetServer::CallEnded() {
  absl::MutexLock lock(&mu_);
  --live_calls_;
}

}  // namespace kv::node
