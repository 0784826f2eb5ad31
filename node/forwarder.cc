#include "node/forwarder.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kv::node {

Forwarder::Forwarder(ChannelFactory* channels, PeerAddress origin, storage::Store* store,
                     absl::Duration apply_wait, prometheus::Registry* registry)
    : store_(store),
      apply_wait_(apply_wait),
      stub_(kv::v1::KV::NewStub(channels->Dial(origin))) {
  if (registry != nullptr) {
    apply_timeouts_ = &prometheus::BuildCounter()
                           .Name("kv_forward_apply_timeouts_total")
                           .Help("Forwarded writes acknowledged by the origin but not yet "
                                 "applied here when the edge answered")
                           .Register(*registry)
                           .Add({});
  }
}

void Forwarder::AfterOrigin(uint64_t sequence, absl::AnyInvocable<void()> done) {
  store_->WaitForSequence(sequence, absl::Now() + apply_wait_,
                          [this, done = std::move(done)](bool reached) mutable {
                            if (!reached && apply_timeouts_ != nullptr) apply_timeouts_->Increment();
                            done();
                          });
}

grpc::Status Forwarder::OriginError(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return status;
  return grpc::Status(
      grpc::StatusCode::UNAVAILABLE,
      absl::StrCat("origin unavailable: writes commit only at the origin, which this edge "
                   "cannot reach now (reads keep working here): ",
                   status.error_message()));
}

}  // namespace kv::node
