#include "tools/kv_bench/kv_propagation_store.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace kv::bench {

KvPropagationStore::KvPropagationStore(kv::Client client, const std::string& endpoint,
                                       absl::Duration timeout, std::string namespace_id)
    : client_(std::move(client)),
      stub_(kv::v1::KV::NewStub(
          grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))),
      timeout_(timeout),
      namespace_id_(std::move(namespace_id)) {}

absl::StatusOr<uint64_t> KvPropagationStore::Write(const std::string& key,
                                                   const std::string& value) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  kv::v1::PutResponse response;
  std::unique_ptr<grpc::ClientWriter<kv::v1::PutRequest>> writer =
      stub_->Put(&context, &response);
  kv::v1::PutRequest request;
  request.set_namespace_id(namespace_id_);
  request.set_key(key);
  request.set_value_size(static_cast<int64_t>(value.size()));
  request.set_value_chunk(value);
  writer->Write(request);  // a failure shows in Finish()
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
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
