// The gRPC implementation of kv::Connection: deadlines, retries with jittered
// exponential backoff for idempotent calls, and chunked transfer of values.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/connection.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "kv/v1/kv.grpc.pb.h"

namespace kv {
namespace {

std::optional<absl::Time> FromEpochSeconds(int64_t s) {
  if (s == 0) return std::nullopt;
  return absl::FromUnixSeconds(s);
}

const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

// Fills the options every put-like message carries.
template <typename Message>
absl::Status SetPutOptions(const PutOptions& options, Message* out) {
  if (options.expiration) out->set_expiration(absl::ToUnixSeconds(*options.expiration));
  if (options.expiration_ttl) {
    out->set_expiration_ttl(absl::ToInt64Seconds(*options.expiration_ttl));
  }
  if (options.metadata) {
    KV_RETURN_IF_ERROR(ValidateMetadata(*options.metadata));
    out->set_metadata(*options.metadata);
  }
  return absl::OkStatus();
}

class GrpcConnection final : public Connection {
 public:
  GrpcConnection(ClientOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), stub_(kv::v1::KV::NewStub(channel)) {}

  absl::StatusOr<Namespace> CreateNamespace(const std::string& title) override {
    kv::v1::CreateNamespaceRequest request;
    request.set_title(title);
    return Call<Namespace>(false, [&](grpc::ClientContext& ctx) -> absl::StatusOr<Namespace> {
      kv::v1::CreateNamespaceResponse response;
      KV_RETURN_IF_ERROR(FromGrpcStatus(stub_->CreateNamespace(&ctx, request, &response)));
      return Namespace{response.namespace_().id(), response.namespace_().title()};
    });
  }

  absl::StatusOr<std::vector<Namespace>> ListNamespaces() override {
    return Call<std::vector<Namespace>>(
        true, [&](grpc::ClientContext& ctx) -> absl::StatusOr<std::vector<Namespace>> {
          kv::v1::ListNamespacesResponse response;
          KV_RETURN_IF_ERROR(
              FromGrpcStatus(stub_->ListNamespaces(&ctx, kv::v1::ListNamespacesRequest(), &response)));
          std::vector<Namespace> out;
          for (const auto& ns : response.namespaces()) out.push_back({ns.id(), ns.title()});
          return out;
        });
  }

  absl::StatusOr<Namespace> RenameNamespace(const std::string& namespace_id,
                                            const std::string& title) override {
    kv::v1::RenameNamespaceRequest request;
    request.set_namespace_id(namespace_id);
    request.set_title(title);
    return Call<Namespace>(true, [&](grpc::ClientContext& ctx) -> absl::StatusOr<Namespace> {
      kv::v1::RenameNamespaceResponse response;
      KV_RETURN_IF_ERROR(FromGrpcStatus(stub_->RenameNamespace(&ctx, request, &response)));
      return Namespace{response.namespace_().id(), response.namespace_().title()};
    });
  }

  absl::Status DeleteNamespace(const std::string& namespace_id) override {
    kv::v1::DeleteNamespaceRequest request;
    request.set_namespace_id(namespace_id);
    // Not retried: a retry after a delete that landed would report NOT_FOUND.
    return Call<absl::Status>(false, [&](grpc::ClientContext& ctx) {
      kv::v1::DeleteNamespaceResponse response;
      return FromGrpcStatus(stub_->DeleteNamespace(&ctx, request, &response));
    });
  }

  absl::StatusOr<std::optional<ValueWithMetadata>> Get(const std::string& namespace_id,
                                                       const std::string& key, bool with_metadata,
                                                       const GetOptions& options) override {
    kv::v1::GetRequest request;
    request.set_namespace_id(namespace_id);
    request.set_key(key);
    request.set_with_metadata(with_metadata);
    if (options.cache_ttl) request.set_cache_ttl(absl::ToInt64Seconds(*options.cache_ttl));
    using Result = std::optional<ValueWithMetadata>;
    return Call<Result>(true, [&](grpc::ClientContext& ctx) -> absl::StatusOr<Result> {
      std::unique_ptr<grpc::ClientReader<kv::v1::GetResponse>> reader =
          stub_->Get(&ctx, request);
      kv::v1::GetResponse message;
      bool first = true, found = false;
      ValueWithMetadata out;
      while (reader->Read(&message)) {
        if (first) {
          first = false;
          found = message.found();
          out.value.reserve(std::clamp<int64_t>(message.value_size(), 0, kMaxValueBytes));
          if (message.has_metadata()) out.metadata = message.metadata();
          out.expiration = FromEpochSeconds(message.expiration());
        }
        out.value += message.value_chunk();
      }
      KV_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
      if (!found) return Result();
      return Result(std::move(out));
    });
  }

  absl::StatusOr<BulkGetResult> BulkGet(const std::string& namespace_id,
                                        const std::vector<std::string>& keys,
                                        const BulkGetOptions& options) override {
    KV_RETURN_IF_ERROR(ValidateBulkGetCount(static_cast<int64_t>(keys.size())));
    kv::v1::BulkGetRequest request;
    request.set_namespace_id(namespace_id);
    for (const std::string& key : keys) request.add_keys(key);
    request.set_type(options.type == BulkGetType::kJson ? "json" : "text");
    request.set_with_metadata(options.with_metadata);
    return Call<BulkGetResult>(true, [&](grpc::ClientContext& ctx) -> absl::StatusOr<BulkGetResult> {
      std::unique_ptr<grpc::ClientReader<kv::v1::BulkGetResponse>> reader =
          stub_->BulkGet(&ctx, request);
      std::vector<std::pair<std::string, std::optional<ValueWithMetadata>>> entries;
      kv::v1::BulkGetResponse message;
      while (reader->Read(&message)) {
        if (!message.continuation().empty() && !entries.empty() && entries.back().second) {
          entries.back().second->value += message.continuation();
        }
        for (kv::v1::BulkGetEntry& e : *message.mutable_entries()) {
          std::optional<ValueWithMetadata> value;
          if (e.found()) {
            value.emplace();
            value->value.reserve(std::clamp<int64_t>(e.value_size(), 0, kMaxValueBytes));
            value->value += e.value_chunk();
            if (e.has_metadata()) value->metadata = e.metadata();
            value->expiration = FromEpochSeconds(e.expiration());
          }
          entries.emplace_back(e.key(), std::move(value));
        }
      }
      KV_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
      BulkGetResult out;
      for (auto& [key, value] : entries) out[key] = std::move(value);
      return out;
    });
  }

  absl::Status Put(const std::string& namespace_id, const std::string& key,
                   const std::string& value, const PutOptions& options) override {
    KV_RETURN_IF_ERROR(ValidateKey(key));
    KV_RETURN_IF_ERROR(ValidateValueSize(static_cast<int64_t>(value.size())));
    kv::v1::PutRequest first;
    first.set_namespace_id(namespace_id);
    first.set_key(key);
    first.set_value_size(static_cast<int64_t>(value.size()));
    KV_RETURN_IF_ERROR(SetPutOptions(options, &first));
    // A put is not retried: it may have committed before the error reached us.
    return Call<absl::Status>(false, [&](grpc::ClientContext& ctx) {
      kv::v1::PutResponse response;
      // The headers leave with the first message, and the last message half-closes the
      // call: a value of one chunk is one write on the wire (one wake-up at the node).
      ctx.set_initial_metadata_corked(true);
      std::unique_ptr<grpc::ClientWriter<kv::v1::PutRequest>> writer = stub_->Put(&ctx, &response);
      const size_t chunk = static_cast<size_t>(kStreamChunkBytes);
      kv::v1::PutRequest message = first;
      message.set_value_chunk(value.substr(0, chunk));
      for (size_t off = chunk; off < value.size(); off += chunk) {
        if (!writer->Write(message)) break;  // Finish() says why
        message.Clear();
        message.set_value_chunk(value.substr(off, chunk));
      }
      writer->WriteLast(message, grpc::WriteOptions());
      return FromGrpcStatus(writer->Finish());
    });
  }

  absl::Status Delete(const std::string& namespace_id, const std::string& key) override {
    kv::v1::DeleteRequest request;
    request.set_namespace_id(namespace_id);
    request.set_key(key);
    return Call<absl::Status>(true, [&](grpc::ClientContext& ctx) {
      kv::v1::DeleteResponse response;
      return FromGrpcStatus(stub_->Delete(&ctx, request, &response));
    });
  }

  absl::StatusOr<BulkPutResult> BulkPut(const std::string& namespace_id,
                                        const std::vector<BulkPutItem>& items) override {
    KV_RETURN_IF_ERROR(ValidateBulkWriteCount(static_cast<int64_t>(items.size()), "write"));
    int64_t total = 0;
    for (const BulkPutItem& item : items) {
      total += static_cast<int64_t>(item.key.size() + item.value.size() +
                                    (item.options.metadata ? item.options.metadata->size() : 0));
    }
    KV_RETURN_IF_ERROR(ValidateBulkRequestSize(total));
    return Call<BulkPutResult>(false, [&](grpc::ClientContext& ctx) -> absl::StatusOr<BulkPutResult> {
      kv::v1::BulkPutResponse response;
      ctx.set_initial_metadata_corked(true);  // the headers leave with the first message
      std::unique_ptr<grpc::ClientWriter<kv::v1::BulkPutRequest>> writer =
          stub_->BulkPut(&ctx, &response);
      kv::v1::BulkPutRequest message;
      message.set_namespace_id(namespace_id);
      message.set_item_count(static_cast<int64_t>(items.size()));
      message.set_total_bytes(total);
      int64_t budget = kStreamChunkBytes;
      bool ok = true;
      bool sent_any = false;
      auto send = [&] {
        ok = ok && writer->Write(message);
        sent_any = true;
        message.Clear();
        budget = kStreamChunkBytes;
      };
      for (const BulkPutItem& item : items) {
        if (!ok) break;
        kv::v1::BulkPutItem* out = message.add_items();
        out->set_key(item.key);
        out->set_value_size(static_cast<int64_t>(item.value.size()));
        // Invalid options are the node's to report per key; only set what parses.
        if (item.options.expiration) out->set_expiration(absl::ToUnixSeconds(*item.options.expiration));
        if (item.options.expiration_ttl) {
          out->set_expiration_ttl(absl::ToInt64Seconds(*item.options.expiration_ttl));
        }
        if (item.options.metadata) out->set_metadata(*item.options.metadata);
        budget -= static_cast<int64_t>(item.key.size()) + 64 +
                  static_cast<int64_t>(item.options.metadata ? item.options.metadata->size() : 0);
        size_t take = static_cast<size_t>(std::clamp<int64_t>(budget, 0, item.value.size()));
        out->set_value_chunk(item.value.substr(0, take));
        budget -= static_cast<int64_t>(take);
        for (size_t off = take; off < item.value.size(); off += kStreamChunkBytes) {
          send();
          message.set_continuation(item.value.substr(off, kStreamChunkBytes));
          budget -= static_cast<int64_t>(message.continuation().size());
        }
        if (budget <= 0) send();
      }
      if (ok && (message.items_size() > 0 || !message.continuation().empty() || !sent_any)) {
        writer->WriteLast(message, grpc::WriteOptions());  // also half-closes
      } else if (ok) {
        writer->WritesDone();
      }
      KV_RETURN_IF_ERROR(FromGrpcStatus(writer->Finish()));
      BulkPutResult result;
      result.successful_key_count = response.successful_key_count();
      for (const auto& e : response.unsuccessful_keys()) {
        result.unsuccessful_keys.push_back({e.key(), e.error()});
      }
      return result;
    });
  }

  absl::StatusOr<int64_t> BulkDelete(const std::string& namespace_id,
                                     const std::vector<std::string>& keys) override {
    KV_RETURN_IF_ERROR(ValidateBulkWriteCount(static_cast<int64_t>(keys.size()), "delete"));
    kv::v1::BulkDeleteRequest request;
    request.set_namespace_id(namespace_id);
    for (const std::string& key : keys) request.add_keys(key);
    return Call<int64_t>(true, [&](grpc::ClientContext& ctx) -> absl::StatusOr<int64_t> {
      kv::v1::BulkDeleteResponse response;
      KV_RETURN_IF_ERROR(FromGrpcStatus(stub_->BulkDelete(&ctx, request, &response)));
      return response.successful_key_count();
    });
  }

  absl::StatusOr<ListResult> List(const std::string& namespace_id,
                                  const ListOptions& options) override {
    kv::v1::ListRequest request;
    request.set_namespace_id(namespace_id);
    request.set_prefix(options.prefix);
    if (options.limit) request.set_limit(*options.limit);
    request.set_cursor(options.cursor);
    return Call<ListResult>(true, [&](grpc::ClientContext& ctx) -> absl::StatusOr<ListResult> {
      kv::v1::ListResponse response;
      KV_RETURN_IF_ERROR(FromGrpcStatus(stub_->List(&ctx, request, &response)));
      ListResult out;
      out.keys.reserve(response.keys_size());
      for (kv::v1::KeyInfo& k : *response.mutable_keys()) {
        ListedKey& listed = out.keys.emplace_back();
        listed.name = std::move(*k.mutable_name());
        listed.expiration = FromEpochSeconds(k.expiration());
        if (k.has_metadata()) listed.metadata = std::move(*k.mutable_metadata());
      }
      out.list_complete = response.list_complete();
      out.cursor = response.cursor();
      return out;
    });
  }

 private:
  // Runs `attempt` with a fresh deadline, retrying idempotent calls on UNAVAILABLE or
  // DEADLINE_EXCEEDED with jittered exponential backoff.
  // T is the call's value type (absl::Status for calls without one).
  template <typename T, typename Attempt,
            typename Result = std::conditional_t<std::is_same_v<T, absl::Status>, absl::Status,
                                                 absl::StatusOr<T>>>
  Result Call(bool idempotent, Attempt&& attempt) {
    absl::Duration backoff = options_.retry.initial_backoff;
    for (int i = 1;; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
      Result result = attempt(ctx);
      const absl::Status& s = StatusOf(result);
      if (s.ok() || !idempotent || !Retryable(s) || i >= options_.retry.max_attempts) {
        return result;
      }
      double jitter;
      {
        absl::MutexLock lock(&mu_);
        jitter = absl::Uniform(gen_, 0.75, 1.25);
      }
      absl::SleepFor(backoff * jitter);
      backoff = std::min(backoff * 2, options_.retry.max_backoff);
    }
  }

  const ClientOptions options_;
  std::unique_ptr<kv::v1::KV::Stub> stub_;
  absl::Mutex mu_;
  absl::BitGen gen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::shared_ptr<Connection> MakeGrpcConnection(const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 * kMaxReceiveMessageBytes);
  args.SetMaxSendMessageSize(kMaxReceiveMessageBytes);
  // Reconnect quickly after a node restart instead of waiting out gRPC's long backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return std::make_shared<GrpcConnection>(
      options, grpc::CreateCustomChannel(options.endpoint, grpc::InsecureChannelCredentials(), args));
}

std::shared_ptr<Connection> MakeGrpcConnectionForChannel(const ClientOptions& options,
                                                         std::shared_ptr<grpc::Channel> channel) {
  return std::make_shared<GrpcConnection>(options, std::move(channel));
}

}  // namespace kv
