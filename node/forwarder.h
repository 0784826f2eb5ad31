#ifndef KV_NODE_FORWARDER_H_
#define KV_NODE_FORWARDER_H_

// An edge's write path: writes commit only at the origin, so the edge forwards each
// write call to it (values streamed through, one message in flight), and answers only
// once its own replica has applied the acknowledged sequence number. The writer
// therefore reads its own write at the edge it wrote through.
//
// Invariants / thread safety
// - An error from the origin reaches the caller unchanged (same code, same message),
//   except UNAVAILABLE, which says that writes need the origin and reads still work.
// - A write the origin acknowledged is reported OK even if local replication does not
//   catch up within `apply_wait` (it is durable at the origin; replication will deliver
//   it); kv_forward_apply_timeouts_total counts those.
// Thread-safe.

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/channel_factory.h"
#include "grpcpp/grpcpp.h"
#include "kv/v1/kv.grpc.pb.h"
#include "storage/store.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace kv::node {

class Forwarder {
 public:
  // `channels`, `store` and `registry` (may be null) must outlive the forwarder.
  Forwarder(ChannelFactory* channels, PeerAddress origin, storage::Store* store,
            absl::Duration apply_wait, prometheus::Registry* registry);

  kv::v1::KV::StubInterface::async_interface* origin() { return stub_->async(); }

  // Calls `done` once this node has applied `sequence` (or `apply_wait` passed).
  void AfterOrigin(uint64_t sequence, absl::AnyInvocable<void()> done);

  // Maps a failed origin call to what the edge's caller sees.
  static grpc::Status OriginError(const grpc::Status& status);

 private:
  storage::Store* const store_;
  const absl::Duration apply_wait_;
  std::unique_ptr<kv::v1::KV::Stub> stub_;
  prometheus::Counter* apply_timeouts_ = nullptr;
};

}  // namespace kv::node

#endif  // KV_NODE_FORWARDER_H_
