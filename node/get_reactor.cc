#include "node/get_reactor.h"

#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::node {

GetReactor::GetReactor(const ServiceContext* context, const kv::v1::GetRequest* request)
    : ctx_(context), timer_(context->metrics, Method::kGet) {
  Start(request);
}

void GetReactor::Start(const kv::v1::GetRequest* request) {
  absl::Status s = ctx_->CheckNamespace(request->namespace_id());
  if (s.ok()) s = ValidateKey(request->key());
  if (s.ok()) {
    s = ValidateCacheTtl(request->has_cache_ttl() ? std::optional<int64_t>(request->cache_ttl())
                                                  : std::nullopt);
  }
  if (!s.ok()) return FinishWith(s);
  absl::StatusOr<std::optional<storage::StoredValue>> got =
      ctx_->store->Get(request->namespace_id(), request->key(), ctx_->clock->Now());
  if (!got.ok()) return FinishWith(got.status());
  ctx_->FillHeader(message_.mutable_header());
  if (!got->has_value()) {
    message_.set_found(false);
    return WriteFinal();
  }
  storage::StoredValue& value = **got;
  message_.set_found(true);
  message_.set_value_size(value.size);
  if (request->with_metadata()) {
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

void GetReactor::WriteNextChunk() {
  absl::StatusOr<std::string> chunk = blob_->ReadChunk(next_chunk_++);
  if (!chunk.ok()) return FinishWith(chunk.status());
  if (ctx_->metrics) ctx_->metrics->AddValueBytesOut(static_cast<int64_t>(chunk->size()));
  message_.set_value_chunk(std::move(*chunk));
  if (next_chunk_ == blob_->ref().chunk_count()) return WriteFinal();
  StartWrite(&message_);
}

void GetReactor::WriteFinal() {
  // The last message goes out together with the status. (StartWriteLast would hold the
  // message back until Finish, which this reactor only calls after the write is done.)
  timer_.Finish(grpc::StatusCode::OK);
  StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
}

void GetReactor::OnWriteDone(bool ok) {
  if (!ok) return FinishWith(absl::CancelledError("client went away during Get"));
  message_.Clear();  // later messages carry only value parts
  WriteNextChunk();
}

void GetReactor::FinishWith(const absl::Status& status) {
  blob_.reset();  // release the snapshot as soon as possible
  grpc::Status g = ToGrpcStatus(status);
  timer_.Finish(g.error_code());
  Finish(std::move(g));
}

}  // namespace kv::node
