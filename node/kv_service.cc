#include "node/kv_service.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "node/bulk_get_reactor.h"
#include "node/bulk_put_reactor.h"
#include "node/forward_stream_reactor.h"
#include "node/forwarder.h"
#include "node/list_cursor.h"
#include "node/put_reactor.h"

namespace kv::node {
namespace {

using storage::Mutation;

std::string NewNamespaceId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(*gen),
                         absl::Uniform<uint64_t>(*gen));
}

}  // namespace

grpc::ServerUnaryReactor* KvService::Finish(grpc::ServerUnaryReactor* reactor,
                                            const RpcTimer& timer, const absl::Status& status) {
  grpc::Status g = ToGrpcStatus(status);
  timer.Finish(g.error_code());
  reactor->Finish(std::move(g));
  return reactor;
}

template <typename OnSuccess>
grpc::ServerUnaryReactor* KvService::CommitThenFinish(grpc::ServerUnaryReactor* reactor,
                                                      RpcTimer timer,
                                                      std::vector<Mutation> mutations,
                                                      OnSuccess on_success) {
  ctx_->store->Commit(std::move(mutations),
                      [reactor, timer, on_success = std::move(on_success)](
                          storage::CommitResult result) mutable {
                        absl::Status s = result.FirstError();
                        if (s.ok()) on_success(result);
                        Finish(reactor, timer, s);
                      });
  return reactor;
}

template <typename Request, typename Response, typename CallOrigin>
grpc::ServerUnaryReactor* KvService::ForwardUnary(grpc::CallbackServerContext* call,
                                                  const Request* request, Response* response,
                                                  Method method, CallOrigin call_origin) {
  RpcTimer timer(ctx_->metrics, method);
  auto* reactor = call->DefaultReactor();
  std::shared_ptr<grpc::ClientContext> origin_context =
      grpc::ClientContext::FromCallbackServerContext(*call);
  call_origin(origin_context.get(), request, response,
              [this, reactor, timer, response, origin_context](grpc::Status status) {
                if (!status.ok()) {
                  Finish(reactor, timer, FromGrpcStatus(Forwarder::OriginError(status)));
                  return;
                }
                const uint64_t sequence = response->header().applied_sequence();
                ctx_->forwarder->AfterOrigin(
                    sequence, [this, reactor, timer, response, sequence] {
                      // The write's own sequence, as the origin answers it.
                      ctx_->FillHeader(response->mutable_header(), sequence);
                      Finish(reactor, timer, absl::OkStatus());
                    });
              });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::CreateNamespace(
    grpc::CallbackServerContext* call, const kv::v1::CreateNamespaceRequest* request,
    kv::v1::CreateNamespaceResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return ForwardUnary(call, request, response, Method::kCreateNamespace,
                        [this](auto* c, auto* req, auto* resp, auto done) {
                          ctx_->forwarder->origin()->CreateNamespace(c, req, resp, std::move(done));
                        });
  }
  RpcTimer timer(ctx_->metrics, Method::kCreateNamespace);
  auto* reactor = call->DefaultReactor();
  if (absl::Status s = ValidateNamespaceTitle(request->title()); !s.ok()) {
    return Finish(reactor, timer, s);
  }
  std::string id = NewNamespaceId();
  std::vector<Mutation> m;
  m.push_back(Mutation{storage::CreateNamespace{id, request->title()}});
  return CommitThenFinish(reactor, timer, std::move(m),
                          [this, response, id, title = request->title()](
                              const storage::CommitResult& r) {
                            ctx_->FillHeader(response->mutable_header(), r.sequence);
                            response->mutable_namespace_()->set_id(id);
                            response->mutable_namespace_()->set_title(title);
                          });
}

grpc::ServerUnaryReactor* KvService::ListNamespaces(grpc::CallbackServerContext* call,
                                                    const kv::v1::ListNamespacesRequest*,
                                                    kv::v1::ListNamespacesResponse* response) {
  RpcTimer timer(ctx_->metrics, Method::kListNamespaces);
  ctx_->FillHeader(response->mutable_header());
  for (const storage::NamespaceInfo& ns : ctx_->store->ListNamespaces()) {
    kv::v1::Namespace* out = response->add_namespaces();
    out->set_id(ns.id);
    out->set_title(ns.title);
  }
  return Finish(call->DefaultReactor(), timer, absl::OkStatus());
}

grpc::ServerUnaryReactor* KvService::RenameNamespace(
    grpc::CallbackServerContext* call, const kv::v1::RenameNamespaceRequest* request,
    kv::v1::RenameNamespaceResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return ForwardUnary(call, request, response, Method::kRenameNamespace,
                        [this](auto* c, auto* req, auto* resp, auto done) {
                          ctx_->forwarder->origin()->RenameNamespace(c, req, resp, std::move(done));
                        });
  }
  RpcTimer timer(ctx_->metrics, Method::kRenameNamespace);
  auto* reactor = call->DefaultReactor();
  absl::Status s = ctx_->CheckNamespace(request->namespace_id());
  if (s.ok()) s = ValidateNamespaceTitle(request->title());
  if (!s.ok()) return Finish(reactor, timer, s);
  std::vector<Mutation> m;
  m.push_back(Mutation{storage::RenameNamespace{request->namespace_id(), request->title()}});
  return CommitThenFinish(reactor, timer, std::move(m),
                          [this, request, response](const storage::CommitResult& r) {
                            ctx_->FillHeader(response->mutable_header(), r.sequence);
                            response->mutable_namespace_()->set_id(request->namespace_id());
                            response->mutable_namespace_()->set_title(request->title());
                          });
}

grpc::ServerUnaryReactor* KvService::DeleteNamespace(
    grpc::CallbackServerContext* call, const kv::v1::DeleteNamespaceRequest* request,
    kv::v1::DeleteNamespaceResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return ForwardUnary(call, request, response, Method::kDeleteNamespace,
                        [this](auto* c, auto* req, auto* resp, auto done) {
                          ctx_->forwarder->origin()->DeleteNamespace(c, req, resp, std::move(done));
                        });
  }
  RpcTimer timer(ctx_->metrics, Method::kDeleteNamespace);
  auto* reactor = call->DefaultReactor();
  if (absl::Status s = ctx_->CheckNamespace(request->namespace_id()); !s.ok()) {
    return Finish(reactor, timer, s);
  }
  std::vector<Mutation> m;
  m.push_back(Mutation{storage::DeleteNamespace{request->namespace_id()}});
  return CommitThenFinish(reactor, timer, std::move(m),
                          [this, response](const storage::CommitResult& r) {
                            ctx_->FillHeader(response->mutable_header(), r.sequence);
                          });
}

grpc::ServerWriteReactor<kv::v1::BulkGetResponse>* KvService::BulkGet(
    grpc::CallbackServerContext* call, const kv::v1::BulkGetRequest* request) {
  return new BulkGetReactor(ctx_, request);
}

grpc::ServerReadReactor<kv::v1::PutRequest>* KvService::Put(grpc::CallbackServerContext* call,
                                                            kv::v1::PutResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return new ForwardStreamReactor<kv::v1::PutRequest, kv::v1::PutResponse>(
        ctx_, ctx_->forwarder, call, response, Method::kPut,
        [this](grpc::ClientContext* c, kv::v1::PutResponse* resp,
               grpc::ClientWriteReactor<kv::v1::PutRequest>* r) {
          ctx_->forwarder->origin()->Put(c, resp, r);
        });
  }
  return new PutReactor(ctx_, call, response);
}

grpc::ServerReadReactor<kv::v1::BulkPutRequest>* KvService::BulkPut(
    grpc::CallbackServerContext* call, kv::v1::BulkPutResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return new ForwardStreamReactor<kv::v1::BulkPutRequest, kv::v1::BulkPutResponse>(
        ctx_, ctx_->forwarder, call, response, Method::kBulkPut,
        [this](grpc::ClientContext* c, kv::v1::BulkPutResponse* resp,
               grpc::ClientWriteReactor<kv::v1::BulkPutRequest>* r) {
          ctx_->forwarder->origin()->BulkPut(c, resp, r);
        });
  }
  return new BulkPutReactor(ctx_, call, response);
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* call,
                                            const kv::v1::DeleteRequest* request,
                                            kv::v1::DeleteResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return ForwardUnary(call, request, response, Method::kDelete,
                        [this](auto* c, auto* req, auto* resp, auto done) {
                          ctx_->forwarder->origin()->Delete(c, req, resp, std::move(done));
                        });
  }
  RpcTimer timer(ctx_->metrics, Method::kDelete);
  auto* reactor = call->DefaultReactor();
  absl::Status s = ctx_->CheckNamespace(request->namespace_id());
  if (s.ok()) s = ValidateKey(request->key());
  if (!s.ok()) return Finish(reactor, timer, s);
  std::vector<Mutation> m;
  m.push_back(Mutation{storage::DeleteValue{request->namespace_id(), request->key()}});
  return CommitThenFinish(reactor, timer, std::move(m),
                          [this, response](const storage::CommitResult& r) {
                            ctx_->FillHeader(response->mutable_header(), r.sequence);
                          });
}

grpc::ServerUnaryReactor* KvService::BulkDelete(grpc::CallbackServerContext* call,
                                                const kv::v1::BulkDeleteRequest* request,
                                                kv::v1::BulkDeleteResponse* response) {
  if (ctx_->forwarder != nullptr) {
    return ForwardUnary(call, request, response, Method::kBulkDelete,
                        [this](auto* c, auto* req, auto* resp, auto done) {
                          ctx_->forwarder->origin()->BulkDelete(c, req, resp, std::move(done));
                        });
  }
  RpcTimer timer(ctx_->metrics, Method::kBulkDelete);
  auto* reactor = call->DefaultReactor();
  absl::Status s = ctx_->CheckNamespace(request->namespace_id());
  if (s.ok()) s = ValidateBulkWriteCount(request->keys_size(), "delete");
  for (int i = 0; s.ok() && i < request->keys_size(); ++i) s = ValidateKey(request->keys(i));
  if (!s.ok()) return Finish(reactor, timer, s);
  std::vector<Mutation> m;
  m.reserve(request->keys_size());
  for (const std::string& key : request->keys()) {
    m.push_back(Mutation{storage::DeleteValue{request->namespace_id(), key}});
  }
  const int count = request->keys_size();
  return CommitThenFinish(reactor, timer, std::move(m),
                          [this, response, count](const storage::CommitResult& r) {
                            ctx_->FillHeader(response->mutable_header(), r.sequence);
                            response->set_successful_key_count(count);
                          });
}

grpc::ServerUnaryReactor* KvService::List(grpc::CallbackServerContext* call,
                                          const kv::v1::ListRequest* request,
                                          kv::v1::ListResponse* response) {
  RpcTimer timer(ctx_->metrics, Method::kList);
  auto* reactor = call->DefaultReactor();
  auto run = [&]() -> absl::Status {
    KV_RETURN_IF_ERROR(ctx_->CheckNamespace(request->namespace_id()));
    KV_RETURN_IF_ERROR(ValidatePrefix(request->prefix()));
    KV_ASSIGN_OR_RETURN(const int limit, ResolveListLimit(request->has_limit()
                                                              ? std::optional<int64_t>(request->limit())
                                                              : std::nullopt));
    std::optional<std::string> after;
    if (!request->cursor().empty()) {
      KV_ASSIGN_OR_RETURN(after, DecodeListCursor(request->cursor(), request->namespace_id(),
                                                  request->prefix()));
    }
    ctx_->FillHeader(response->mutable_header());
    KV_ASSIGN_OR_RETURN(storage::ListPage page,
                        ctx_->store->List(request->namespace_id(), request->prefix(),
                                          after ? std::optional<absl::string_view>(*after)
                                                : std::nullopt,
                                          limit, ctx_->clock->Now()));
    for (storage::ListedKey& k : page.keys) {
      kv::v1::KeyInfo* out = response->add_keys();
      out->set_name(std::move(k.name));
      out->set_expiration(k.expiration);
      if (k.metadata) out->set_metadata(std::move(*k.metadata));
    }
    response->set_list_complete(page.complete);
    if (!page.complete) {
      response->set_cursor(
          EncodeListCursor(request->namespace_id(), request->prefix(), page.resume_after));
    }
    return absl::OkStatus();
  };
  return Finish(reactor, timer, run());
}

}  // namespace kv::node
