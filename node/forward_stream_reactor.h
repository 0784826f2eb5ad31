#ifndef KV_NODE_FORWARD_STREAM_REACTOR_H_
#define KV_NODE_FORWARD_STREAM_REACTOR_H_

// Relays one client-streaming write (Put or BulkPut) from an edge's caller to the
// origin, message by message: the next message is read from the caller only once the
// previous one was handed to the origin's stream, so gRPC flow control spans the relay
// and the edge holds one message per forwarded call. Deletes itself once both the
// caller's call and the origin's call are done.

#include <atomic>
#include <functional>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "node/forwarder.h"
#include "node/rpc_metrics.h"
#include "node/service_context.h"

namespace kv::node {

template <typename Request, typename Response>
class ForwardStreamReactor final : public grpc::ServerReadReactor<Request> {
 public:
  // Starts `call_origin(context, response, reactor)`, e.g. origin->Put(...).
  using OriginCall = std::function<void(grpc::ClientContext*, Response*,
                                        grpc::ClientWriteReactor<Request>*)>;

  ForwardStreamReactor(const ServiceContext* ctx, Forwarder* forwarder,
                       grpc::CallbackServerContext* call, Response* response, Method method,
                       const OriginCall& call_origin)
      : ctx_(ctx),
        forwarder_(forwarder),
        response_(response),
        timer_(ctx->metrics, method),
        origin_context_(grpc::ClientContext::FromCallbackServerContext(*call)),
        upstream_(this) {
    call_origin(origin_context_.get(), &origin_response_, &upstream_);
    // Held until this side starts no more origin operations, so the origin call's OnDone
    // (after which none may start) cannot come first.
    upstream_.AddHold();
    upstream_.StartCall();
    this->StartRead(&message_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The caller half-closed (or went away: the propagated context then cancels the
      // origin call too). The origin's answer completes the relay.
      upstream_.StartWritesDone();
      ReleaseHold();
      return;
    }
    upstream_.StartWrite(&message_);
  }

  void OnDone() override { Release(); }

 private:
  // The origin side of the relay.
  class Upstream final : public grpc::ClientWriteReactor<Request> {
   public:
    explicit Upstream(ForwardStreamReactor* owner) : owner_(owner) {}
    void OnWriteDone(bool ok) override {
      if (ok) {
        owner_->StartRead(&owner_->message_);
      } else {
        owner_->ReleaseHold();  // the origin ended the call; OnDone brings its status
      }
    }
    void OnDone(const grpc::Status& status) override { owner_->OriginDone(status); }

   private:
    ForwardStreamReactor* const owner_;
  };

  void OriginDone(const grpc::Status& status) {
    if (!status.ok()) {
      FinishWith(Forwarder::OriginError(status));
      Release();
      return;
    }
    const uint64_t sequence = origin_response_.header().applied_sequence();
    forwarder_->AfterOrigin(sequence, [this, sequence] {
      *response_ = std::move(origin_response_);
      ctx_->FillHeader(response_->mutable_header(), sequence);  // the write's own sequence
      FinishWith(grpc::Status::OK);
      Release();
    });
  }

  void FinishWith(grpc::Status status) {
    timer_.Finish(status.error_code());
    this->Finish(std::move(status));
  }

  void ReleaseHold() {
    if (!hold_released_.exchange(true)) upstream_.RemoveHold();
  }

  // Two owners: the caller's call (OnDone) and the origin's call (OriginDone).
  void Release() {
    if (--refs_ == 0) delete this;
  }

  const ServiceContext* const ctx_;
  Forwarder* const forwarder_;
  Response* const response_;
  RpcTimer timer_;
  std::unique_ptr<grpc::ClientContext> origin_context_;
  Upstream upstream_;
  Request message_;
  Response origin_response_;
  std::atomic<int> refs_{2};
  std::atomic<bool> hold_released_{false};
};

}  // namespace kv::node

#endif  // KV_NODE_FORWARD_STREAM_REACTOR_H_
