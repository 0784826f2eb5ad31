#ifndef KV_NODE_KV_SERVICE_H_
#define KV_NODE_KV_SERVICE_H_

// The kv.v1.KV gRPC service on the callback API: each method validates its input with
// common/validation.h, calls the Store, converts the status and finishes. No method
// blocks a gRPC thread on a write: writes complete from the store's commit callback.
// Streaming methods are implemented by the reactors in *_reactor.h; Get, the hot path,
// by node/get_server.h on the completion-queue API.
// Thread-safe.

#include "kv/v1/kv.grpc.pb.h"
#include "node/get_server.h"
#include "node/service_context.h"

namespace kv::node {

class KvService final : public GetServer::Service {
 public:
  // `context` must outlive the service.
  explicit KvService(const ServiceContext* context) : ctx_(context) {}

  grpc::ServerUnaryReactor* CreateNamespace(grpc::CallbackServerContext* call,
                                            const kv::v1::CreateNamespaceRequest* request,
                                            kv::v1::CreateNamespaceResponse* response) override;
  grpc::ServerUnaryReactor* ListNamespaces(grpc::CallbackServerContext* call,
                                           const kv::v1::ListNamespacesRequest* request,
                                           kv::v1::ListNamespacesResponse* response) override;
  grpc::ServerUnaryReactor* RenameNamespace(grpc::CallbackServerContext* call,
                                            const kv::v1::RenameNamespaceRequest* request,
                                            kv::v1::RenameNamespaceResponse* response) override;
  grpc::ServerUnaryReactor* DeleteNamespace(grpc::CallbackServerContext* call,
                                            const kv::v1::DeleteNamespaceRequest* request,
                                            kv::v1::DeleteNamespaceResponse* response) override;
  grpc::ServerWriteReactor<kv::v1::BulkGetResponse>* BulkGet(
      grpc::CallbackServerContext* call, const kv::v1::BulkGetRequest* request) override;
  grpc::ServerReadReactor<kv::v1::PutRequest>* Put(grpc::CallbackServerContext* call,
                                                   kv::v1::PutResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* call,
                                   const kv::v1::DeleteRequest* request,
                                   kv::v1::DeleteResponse* response) override;
  grpc::ServerReadReactor<kv::v1::BulkPutRequest>* BulkPut(
      grpc::CallbackServerContext* call, kv::v1::BulkPutResponse* response) override;
  grpc::ServerUnaryReactor* BulkDelete(grpc::CallbackServerContext* call,
                                       const kv::v1::BulkDeleteRequest* request,
                                       kv::v1::BulkDeleteResponse* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* call,
                                 const kv::v1::ListRequest* request,
                                 kv::v1::ListResponse* response) override;

 private:
  // Finishes `reactor` with `status`, recording metrics.
  static grpc::ServerUnaryReactor* Finish(grpc::ServerUnaryReactor* reactor, const RpcTimer& timer,
                                          const absl::Status& status);

  // Relays a unary write to the origin (on edges) and finishes once it is applied here.
  // `call_origin(context, request, response, done)` starts the origin call.
  template <typename Request, typename Response, typename CallOrigin>
  grpc::ServerUnaryReactor* ForwardUnary(grpc::CallbackServerContext* call,
                                         const Request* request, Response* response,
                                         Method method, CallOrigin call_origin);

  // Commits `mutations` and finishes `reactor` when durable. `on_success` fills the
  // response (with the applied sequence) before the reactor finishes.
  template <typename OnSuccess>
  grpc::ServerUnaryReactor* CommitThenFinish(grpc::ServerUnaryReactor* reactor, RpcTimer timer,
                                             std::vector<storage::Mutation> mutations,
                                             OnSuccess on_success);

  const ServiceContext* const ctx_;
};

}  // namespace kv::node

#endif  // KV_NODE_KV_SERVICE_H_
