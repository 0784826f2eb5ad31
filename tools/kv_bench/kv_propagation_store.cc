#include "tools/kv_bench/kv_propagation_store.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "client/connection.h"
#include "common/grpc_status.h"

namespace kv::bench {

namespace {

std::shared_ptr<grpc::Channel> Dial(const std::string& endpoint) {
  return grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
}

}  // namespace

KvPropagationStore::KvPropagationStore(const kv::ClientOptions& options,
                                       std::string namespace_id)
    : KvPropagationStore(options, Dial(options.endpoint), std::move(namespace_id)) {}

KvPropagationStore::KvPropagationStore(const kv::ClientOptions& options,
                                       std::shared_ptr<grpc::Channel> channel,
                                       std::string namespace_id)
    : client_(kv::MakeGrpcConnectionForChannel(options, channel)),
      stub_(kv::v1::KV::NewStub(channel)),
      timeout_(options.timeout),
      namespace_id_(std::move(namespace_id)) {}

absl::StatusOr<uint64_t> KvPropagationStore::Write(const std::string& key,
                                                   const std::string& value) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  kv::v1::PutResponse response;
  // As the SDK does: headers, value and half-close in one write.
  context.set_initial_metadata_corked(true);
  std::unique_ptr<grpc::ClientWriter<kv::v1::PutRequest>> writer =
      stub_->Put(&context, &response);
  kv::v1::PutRequest request;
  request.set_namespace_id(namespace_id_);
  request.set_key(key);
  request.set_value_size(static_cast<int64_t>(value.size()));
  request.set_value_chunk(value);
  writer->WriteLast(request, grpc::WriteOptions());  // a failure shows in Finish()
  if (const grpc::Status status = writer->Finish(); !status.ok()) {
    return kv::FromGrpcStatus(status);
  }
  if (response.header().applied_sequence() == 0) {
    return absl::InternalError(absl::StrCat("the node answered put ", key, " without a sequence"));
  }
  return response.header().applied_sequence();
}

absl::StatusOr<bool> KvPropagationStore::IsVisible(const std::string& key) {
  absl::StatusOr<std::optional<std::string>> got = client_.Get(namespace_id_, key);
  if (!got.ok()) return got.status();
  return got->has_value();
}

}  // namespace kv::bench
