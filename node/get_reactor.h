#ifndef KV_NODE_GET_REACTOR_H_
#define KV_NODE_GET_REACTOR_H_

#include <memory>

#include "grpcpp/grpcpp.h"
#include "kv/v1/kv.pb.h"
#include "node/service_context.h"
#include "storage/store.h"

namespace kv::node {

// Serves one Get: the first message carries header, metadata and the start of the
// value; a chunked value follows one stored chunk per message, each read only after the
// previous one was sent, so a transfer holds about one chunk of memory. Deletes itself
// when done.
class GetReactor final : public grpc::ServerWriteReactor<kv::v1::GetResponse> {
 public:
  GetReactor(const ServiceContext* context, const kv::v1::GetRequest* request);

  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  void Start(const kv::v1::GetRequest* request);
  void WriteNextChunk();
  void WriteFinal();
  void FinishWith(const absl::Status& status);

  const ServiceContext* const ctx_;
  RpcTimer timer_;
  kv::v1::GetResponse message_;
  std::unique_ptr<storage::BlobReader> blob_;
  uint32_t next_chunk_ = 0;
};

}  // namespace kv::node

#endif  // KV_NODE_GET_REACTOR_H_
