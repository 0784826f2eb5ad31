#include "node/put_reactor.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "node/put_options.h"

namespace kv::node {

PutReactor::PutReactor(const ServiceContext* context, grpc::CallbackServerContext* call,
                       kv::v1::PutResponse* response)
    : ctx_(context), call_(call), response_(response), timer_(context->metrics, Method::kPut) {
  StartRead(&message_);
}

absl::Status PutReactor::AcceptFirst() {
  KV_RETURN_IF_ERROR(ctx_->CheckNamespace(message_.namespace_id()));
  KV_ASSIGN_OR_RETURN(PutOptions options, ValidatePut(message_, ctx_->clock->Now()));
  if (!message_.has_value_size()) {
    return absl::InvalidArgumentError("Put must announce value_size in its first message");
  }
  announced_size_ = message_.value_size();
  expiration_ = options.expiration;
  metadata_ = std::move(options.metadata);
  ns_id_ = message_.namespace_id();
  key_ = message_.key();
  builder_ = ctx_->store->NewValueBuilder();
  return absl::OkStatus();
}

void PutReactor::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed (or went away: then nothing it sent is committed).
    if (call_->IsCancelled()) return FinishWith(absl::CancelledError("client cancelled the put"));
    if (!started_) return FinishWith(absl::InvalidArgumentError("Put stream carried no request"));
    if (builder_->size() != announced_size_) {
      return FinishWith(absl::InvalidArgumentError(
          absl::StrCat("Put announced value_size ", announced_size_, " but sent ",
                       builder_->size(), " bytes")));
    }
    return Commit();
  }
  if (!started_) {
    started_ = true;
    if (absl::Status s = AcceptFirst(); !s.ok()) return FinishWith(s);
  }
  const int64_t total = builder_->size() + static_cast<int64_t>(message_.value_chunk().size());
  if (absl::Status s = ValidateValueSize(total); !s.ok()) return FinishWith(s);
  if (total > announced_size_) {
    return FinishWith(absl::InvalidArgumentError(absl::StrCat(
        "Put announced value_size ", announced_size_, " but sent more bytes")));
  }
  if (ctx_->metrics) {
    ctx_->metrics->AddValueBytesIn(static_cast<int64_t>(message_.value_chunk().size()));
  }
  const bool buffered = builder_->Append(message_.value_chunk(), [this](absl::Status s) {
    if (!s.ok()) return FinishWith(s);
    message_.Clear();
    StartRead(&message_);
  });
  if (buffered) {
    message_.Clear();
    StartRead(&message_);
  }
}

void PutReactor::Commit() {
  builder_->Finish([this](absl::StatusOr<storage::ValueRef> value) {
    if (!value.ok()) return FinishWith(value.status());
    storage::PutValue put{ns_id_, key_, std::move(value->inline_value), value->blob,
                          expiration_, metadata_};
    std::vector<storage::Mutation> m;
    m.push_back(storage::Mutation{std::move(put)});
    ctx_->store->Commit(std::move(m), [this](storage::CommitResult result) {
      absl::Status s = result.FirstError();
      if (s.ok()) ctx_->FillHeader(response_->mutable_header(), result.sequence);
      FinishWith(s);
    });
  });
}

void PutReactor::FinishWith(const absl::Status& status) {
  grpc::Status g = ToGrpcStatus(status);
  timer_.Finish(g.error_code());
  Finish(std::move(g));
}

}  // namespace kv::node
