#include "node/bulk_put_reactor.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "node/put_options.h"

namespace kv::node {
namespace {

constexpr int64_t kFlushBytes = 4 << 20;
constexpr size_t kFlushItems = 1000;

}  // namespace

BulkPutReactor::BulkPutReactor(const ServiceContext* context, grpc::CallbackServerContext* call,
                               kv::v1::BulkPutResponse* response)
    : ctx_(context), call_(call), response_(response), timer_(context->metrics, Method::kBulkPut) {
  StartRead(&message_);
}

void BulkPutReactor::OnDone() {
  // Blobs of items received but never committed (the call failed) are freed.
  for (const storage::Mutation& m : batch_) {
    const auto& put = std::get<storage::PutValue>(m.op);
    if (put.blob) ctx_->store->DiscardBlob(*put.blob);
  }
  delete this;
}

absl::Status BulkPutReactor::AcceptFirst() {
  KV_RETURN_IF_ERROR(ctx_->CheckNamespace(message_.namespace_id()));
  ns_id_ = message_.namespace_id();
  if (message_.has_item_count()) {
    KV_RETURN_IF_ERROR(ValidateBulkWriteCount(message_.item_count(), "write"));
  }
  if (message_.has_total_bytes()) {
    KV_RETURN_IF_ERROR(ValidateBulkRequestSize(message_.total_bytes()));
  }
  return absl::OkStatus();
}

void BulkPutReactor::OnReadDone(bool ok) {
  if (!ok) {
    if (call_->IsCancelled()) {
      return FinishWith(absl::CancelledError("client cancelled the bulk put"));
    }
    if (!started_) return FinishWith(absl::InvalidArgumentError("BulkPut stream carried no request"));
    if (current_) {
      return FinishWith(absl::InvalidArgumentError(
          absl::StrCat("BulkPut ended inside the value of key \"", current_->key, "\": ",
                       current_->received, " of ", current_->value_size, " bytes arrived")));
    }
    if (absl::Status s = ValidateBulkWriteCount(items_seen_, "write"); !s.ok()) {
      return FinishWith(s);
    }
    return Flush([this] {
      ctx_->FillHeader(response_->mutable_header());
      response_->set_successful_key_count(succeeded_);
      FinishWith(absl::OkStatus());
    });
  }
  if (!started_) {
    started_ = true;
    if (absl::Status s = AcceptFirst(); !s.ok()) return FinishWith(s);
  }
  next_item_ = 0;
  continuation_done_ = false;
  Process();
}

absl::Status BulkPutReactor::CountBytes(int64_t bytes) {
  bytes_seen_ += bytes;
  return ValidateBulkRequestSize(bytes_seen_);
}

void BulkPutReactor::Process() {
  // A loop, not recursion: a message may carry thousands of small items, and each one
  // taken synchronously continues here. Only a store callback re-enters Process().
  while (true) {
    if (!continuation_done_ && !message_.continuation().empty()) {
      continuation_done_ = true;
      if (!current_) {
        return FinishWith(absl::InvalidArgumentError(
            "BulkPut continuation bytes arrived with no value in progress"));
      }
      if (absl::Status s = CountBytes(message_.continuation().size()); !s.ok()) {
        return FinishWith(s);
      }
      if (!Feed(message_.continuation())) return;
      continue;
    }
    continuation_done_ = true;
    if (next_item_ >= message_.items_size()) break;
    if (current_) {
      return FinishWith(absl::InvalidArgumentError(absl::StrCat(
          "BulkPut item started before the value of key \"", current_->key, "\" was complete")));
    }
    const kv::v1::BulkPutItem& item = message_.items(next_item_++);
    if (++items_seen_ > kMaxBulkWriteItems) {
      return FinishWith(ValidateBulkWriteCount(items_seen_, "write"));
    }
    const int64_t bytes = static_cast<int64_t>(item.key().size() + item.value_chunk().size() +
                                               item.metadata().size());
    if (absl::Status s = CountBytes(bytes); !s.ok()) return FinishWith(s);
    BeginItem(item);
    if (!Feed(item.value_chunk())) return;
  }
  // The message is consumed: commit if enough is pending, then read on.
  auto read_next = [this] {
    message_.Clear();
    StartRead(&message_);
  };
  if (batch_bytes_ >= kFlushBytes || batch_.size() >= kFlushItems) return Flush(read_next);
  read_next();
}

void BulkPutReactor::BeginItem(const kv::v1::BulkPutItem& item) {
  Item& it = current_.emplace();
  it.key = item.key();
  it.value_size = item.has_value_size() ? std::max<int64_t>(item.value_size(), 0)
                                        : static_cast<int64_t>(item.value_chunk().size());
  absl::StatusOr<PutOptions> options = ValidatePut(item, ctx_->clock->Now());
  if (!options.ok()) {
    it.error = std::string(options.status().message());
    return;
  }
  it.expiration = options->expiration;
  it.metadata = std::move(options->metadata);
  if (it.value_size > ctx_->store->options().inline_value_limit) {
    it.builder = ctx_->store->NewValueBuilder();
  }
}

bool BulkPutReactor::Feed(absl::string_view data) {
  Item& it = *current_;
  it.received += static_cast<int64_t>(data.size());
  if (it.received > it.value_size) {
    FinishWith(absl::InvalidArgumentError(absl::StrCat(
        "BulkPut sent more than the announced value_size ", it.value_size, " for key \"",
        it.key, "\"")));
    return false;
  }
  if (ctx_->metrics) ctx_->metrics->AddValueBytesIn(static_cast<int64_t>(data.size()));
  const bool complete = it.received == it.value_size;
  if (it.error || !it.builder) {
    if (!it.error) it.inline_value.append(data.data(), data.size());
    if (complete) CompleteItem(std::nullopt);
    return true;
  }
  // A large value: once its last byte is stored, take the blob and resume.
  auto finish_item = [this] {
    current_->builder->Finish([this](absl::StatusOr<storage::ValueRef> ref) {
      if (!ref.ok()) return FinishWith(ref.status());
      if (ref->blob) {
        CompleteItem(ref->blob);
      } else {
        current_->inline_value = std::move(ref->inline_value);
        CompleteItem(std::nullopt);
      }
      Process();
    });
  };
  const bool buffered = it.builder->Append(data, [this, complete, finish_item](absl::Status s) {
    if (!s.ok()) return FinishWith(s);
    if (complete) return finish_item();
    Process();
  });
  if (!buffered) return false;  // the callback resumes
  if (!complete) return true;
  finish_item();
  return false;
}

void BulkPutReactor::CompleteItem(std::optional<storage::BlobRef> blob) {
  Item it = std::move(*current_);
  current_.reset();
  if (it.error) {
    kv::v1::KeyError* failure = response_->add_unsuccessful_keys();
    failure->set_key(it.key);
    failure->set_error(*it.error);
    return;
  }
  batch_bytes_ += blob ? 64 : static_cast<int64_t>(it.inline_value.size());
  batch_keys_.push_back(it.key);
  batch_.push_back(storage::Mutation{storage::PutValue{ns_id_, std::move(it.key),
                                                       std::move(it.inline_value), blob,
                                                       it.expiration, std::move(it.metadata)}});
}

void BulkPutReactor::Flush(std::function<void()> next) {
  if (batch_.empty()) return next();
  std::vector<storage::Mutation> batch = std::move(batch_);
  batch_.clear();
  batch_bytes_ = 0;
  ctx_->store->Commit(std::move(batch), [this, next = std::move(next)](storage::CommitResult r) {
    if (!r.status.ok()) return FinishWith(r.status);
    for (size_t i = 0; i < r.items.size(); ++i) {
      if (r.items[i].ok()) {
        ++succeeded_;
      } else {
        kv::v1::KeyError* failure = response_->add_unsuccessful_keys();
        failure->set_key(batch_keys_[i]);
        failure->set_error(std::string(r.items[i].message()));
      }
    }
    batch_keys_.clear();
    next();
  });
}

void BulkPutReactor::FinishWith(const absl::Status& status) {
  if (finished_) return;
  finished_ = true;
  grpc::Status g = ToGrpcStatus(status);
  timer_.Finish(g.error_code());
  Finish(std::move(g));
}

}  // namespace kv::node
