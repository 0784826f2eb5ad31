#ifndef KV_NODE_PUT_REACTOR_H_
#define KV_NODE_PUT_REACTOR_H_

#include <memory>

#include "grpcpp/grpcpp.h"
#include "kv/v1/kv.pb.h"
#include "node/service_context.h"
#include "storage/store.h"

namespace kv::node {

// Receives one Put. The first message is validated before any value byte is stored
// (an announced oversize value is refused at once); value parts go to a ValueBuilder,
// and the next message is read only once the previous part is stored, so gRPC flow
// control holds back a fast client and memory stays at about one chunk per upload.
// The put commits when the client half-closes; the reply comes once it is durable.
// Deletes itself when done.
class PutReactor final : public grpc::ServerReadReactor<kv::v1::PutRequest> {
 public:
  PutReactor(const ServiceContext* context, grpc::CallbackServerContext* call,
             kv::v1::PutResponse* response);

  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  absl::Status AcceptFirst();
  void Commit();
  void FinishWith(const absl::Status& status);

  const ServiceContext* const ctx_;
  grpc::CallbackServerContext* const call_;
  kv::v1::PutResponse* const response_;
  RpcTimer timer_;

  kv::v1::PutRequest message_;
  bool started_ = false;
  std::string ns_id_;
  std::string key_;
  int64_t announced_size_ = 0;
  int64_t expiration_ = 0;
  std::optional<std::string> metadata_;
  std::unique_ptr<storage::ValueBuilder> builder_;
};

}  // namespace kv::node

#endif  // KV_NODE_PUT_REACTOR_H_
