#include "node/bulk_get_reactor.h"

#include <istream>
#include <nlohmann/json.hpp>
#include <streambuf>

#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::node {
namespace {

// A streambuf over a blob's chunks, so a large value can be parsed as JSON holding one
// chunk in memory at a time.
class BlobStreamBuf final : public std::streambuf {
 public:
  explicit BlobStreamBuf(const storage::BlobReader* blob) : blob_(blob) {}
  absl::Status status() const { return status_; }

 protected:
  int_type underflow() override {
    if (next_ >= blob_->ref().chunk_count()) return traits_type::eof();
    absl::StatusOr<std::string> chunk = blob_->ReadChunk(next_++);
    if (!chunk.ok()) {
      status_ = chunk.status();
      return traits_type::eof();
    }
    chunk_ = std::move(*chunk);
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return chunk_.empty() ? traits_type::eof() : traits_type::to_int_type(chunk_[0]);
  }

 private:
  const storage::BlobReader* const blob_;
  uint32_t next_ = 0;
  std::string chunk_;
  absl::Status status_;
};

absl::StatusOr<bool> IsJsonValue(const storage::StoredValue& value) {
  if (!value.blob) return IsValidJson(value.inline_value);
  BlobStreamBuf buf(value.blob.get());
  std::istream in(&buf);
  const bool ok = nlohmann::json::accept(in);
  KV_RETURN_IF_ERROR(buf.status());
  return ok;
}

}  // namespace

BulkGetReactor::BulkGetReactor(const ServiceContext* context,
                               const kv::v1::BulkGetRequest* request)
    : ctx_(context), timer_(context->metrics, Method::kBulkGet) {
  absl::Status s = Prepare(request);
  if (s.ok()) s = FillNextMessage();
  if (!s.ok()) {
    FinishWith(s);
    return;
  }
  WriteMessage();
}

void BulkGetReactor::WriteMessage() {
  if (entry_ < entries_.size()) return StartWrite(&message_);
  // The last message goes out together with the status (StartWriteLast would hold it
  // back until Finish).
  entries_.clear();
  timer_.Finish(grpc::StatusCode::OK);
  StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
}

absl::Status BulkGetReactor::Prepare(const kv::v1::BulkGetRequest* request) {
  KV_RETURN_IF_ERROR(ctx_->CheckNamespace(request->namespace_id()));
  KV_RETURN_IF_ERROR(ValidateBulkGetCount(request->keys_size()));
  KV_ASSIGN_OR_RETURN(const BulkGetType type, ParseBulkGetType(request->type()));
  with_metadata_ = request->with_metadata();
  const std::vector<absl::string_view> keys(request->keys().begin(), request->keys().end());
  KV_ASSIGN_OR_RETURN(std::vector<std::optional<storage::StoredValue>> values,
                      ctx_->ReadMany(request->namespace_id(), keys, with_metadata_));
  entries_.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    entries_.push_back(Entry{std::string(keys[i]), std::move(values[i])});
  }
  if (type == BulkGetType::kJson) {
    for (const Entry& e : entries_) {
      if (!e.value) continue;
      KV_ASSIGN_OR_RETURN(const bool json, IsJsonValue(*e.value));
      if (!json) return BulkGetNonJsonError();
    }
  }
  ctx_->FillHeader(message_.mutable_header());
  return absl::OkStatus();
}

absl::Status BulkGetReactor::AppendValueBytes(int64_t budget, std::string* out) {
  const storage::StoredValue& v = *entries_[entry_].value;
  const int64_t n = std::min(budget, v.size - offset_);
  if (!v.blob) {
    out->append(v.inline_value, offset_, n);
    offset_ += n;
    return absl::OkStatus();
  }
  const int64_t chunk_bytes = v.blob->ref().chunk_bytes;
  int64_t left = n;
  while (left > 0) {
    const int64_t index = offset_ / chunk_bytes;
    if (index != cached_chunk_index_) {
      KV_ASSIGN_OR_RETURN(cached_chunk_, v.blob->ReadChunk(static_cast<uint32_t>(index)));
      cached_chunk_index_ = index;
    }
    const int64_t within = offset_ - index * chunk_bytes;
    const int64_t take = std::min(left, static_cast<int64_t>(cached_chunk_.size()) - within);
    out->append(cached_chunk_, within, take);
    offset_ += take;
    left -= take;
  }
  return absl::OkStatus();
}

absl::Status BulkGetReactor::FillNextMessage() {
  int64_t budget = kStreamChunkBytes;
  while (entry_ < entries_.size() && budget > 0) {
    Entry& e = entries_[entry_];
    std::string* target;
    if (!entry_started_) {
      kv::v1::BulkGetEntry* out = message_.add_entries();
      out->set_key(e.key);
      out->set_found(e.value.has_value());
      if (e.value) {
        out->set_value_size(e.value->size);
        if (with_metadata_) {
          out->set_expiration(e.value->expiration);
          if (e.value->metadata) out->set_metadata(*e.value->metadata);
        }
      }
      budget -= static_cast<int64_t>(e.key.size()) + 64;
      entry_started_ = true;
      target = out->mutable_value_chunk();
    } else {
      target = message_.mutable_continuation();  // only ever first in a message
    }
    if (e.value) {
      const int64_t before = offset_;
      KV_RETURN_IF_ERROR(AppendValueBytes(std::max<int64_t>(budget, 0), target));
      budget -= offset_ - before;
      if (ctx_->metrics) ctx_->metrics->AddValueBytesOut(offset_ - before);
      if (offset_ < e.value->size) break;  // message full; continue in the next one
    }
    e.value.reset();  // done with it: drop its snapshot
    ++entry_;
    offset_ = 0;
    entry_started_ = false;
    cached_chunk_index_ = -1;
    cached_chunk_.clear();
  }
  return absl::OkStatus();
}

void BulkGetReactor::OnWriteDone(bool ok) {
  if (!ok) return FinishWith(absl::CancelledError("client went away during BulkGet"));
  message_.Clear();
  if (absl::Status s = FillNextMessage(); !s.ok()) return FinishWith(s);
  WriteMessage();
}

void BulkGetReactor::FinishWith(const absl::Status& status) {
  entries_.clear();
  grpc::Status g = ToGrpcStatus(status);
  timer_.Finish(g.error_code());
  Finish(std::move(g));
}

}  // namespace kv::node
