#ifndef KV_NODE_GET_SERVER_H_
#define KV_NODE_GET_SERVER_H_

// kv.v1.KV/Get on gRPC's completion-queue API. Gets are the hot path of an edge, and on
// the callback API each one cost an idle node ~150 µs of CPU, most of it two gRPC
// threads waking each other up (6 context switches per call). Here each queue is
// drained by one thread that takes a call from arrival to finish itself.

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "kv/v1/kv.grpc.pb.h"
#include "node/service_context.h"

namespace kv::node {

// Thread-compatible; the calls it serves run on its own threads.
class GetServer {
 public:
  // kv.v1.KV with Get on the completion-queue API and the rest on the callback API.
  // (Get must be marked async while still a sync method: marking a callback method
  // async keeps its callback handler, and requests for it then crash.)
  using Service = kv::v1::KV::WithCallbackMethod_CreateNamespace<
      kv::v1::KV::WithCallbackMethod_ListNamespaces<kv::v1::KV::WithCallbackMethod_RenameNamespace<
          kv::v1::KV::WithCallbackMethod_DeleteNamespace<
              kv::v1::KV::WithCallbackMethod_BulkGet<kv::v1::KV::WithCallbackMethod_Put<
                  kv::v1::KV::WithCallbackMethod_Delete<kv::v1::KV::WithCallbackMethod_BulkPut<
                      kv::v1::KV::WithCallbackMethod_BulkDelete<kv::v1::KV::WithCallbackMethod_List<
                          kv::v1::KV::WithAsyncMethod_Get<kv::v1::KV::Service>>>>>>>>>>>;

  // Adds `threads` completion queues to `builder` (0: one per 4 cores, at least one).
  // `context` and `service` (registered on the same builder) must outlive this object.
  GetServer(const ServiceContext* context, Service* service, grpc::ServerBuilder* builder,
            int threads);
  ~GetServer();
  GetServer(const GetServer&) = delete;
  GetServer& operator=(const GetServer&) = delete;

  // Starts serving; call once the server is built and started.
  void Start();
  // Call after grpc::Server::Shutdown() has returned: waits until every call has ended
  // (the server fails the requests still waiting and cancels the calls still running),
  // then drains the queues and joins the threads. Idempotent; the destructor calls it.
  void Shutdown();

 private:
  class Call;  // one Get, in get_server.cc

  void CallStarted();
  void CallEnded();

  const ServiceContext* const ctx_;
  Service* const service_;
  absl::Mutex mu_;
  // Calls alive, requested or running. A queue may only shut down once none is left,
  // or a call could start an operation on it.
  int live_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace kv::node

#endif  // KV_NODE_GET_SERVER_H_
