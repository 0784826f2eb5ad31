#ifndef KV_REPLICATION_REPLICATION_METRICS_H_
#define KV_REPLICATION_REPLICATION_METRICS_H_

#include <cstdint>

#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace kv::replication {

// Replication metrics of one node (kv_replication_*), registered on the node's registry.
// Every method is thread-safe; a default-constructed object (no registry) records nothing.
class ReplicationMetrics {
 public:
  ReplicationMetrics() = default;
  explicit ReplicationMetrics(prometheus::Registry& registry);

  // An entry committed at the origin `lag` ago was applied here.
  void ObserveLag(absl::Duration lag);
  void AddApplied(int64_t entries, int64_t bytes, bool from_origin);
  void AddPushed(int64_t entries, int64_t bytes);
  // A stream to a subscriber opened (+1) or ended (-1), over either transport.
  void AddSubscribers(int delta);
  void SetOriginHead(uint64_t sequence);
  void SetConnectedToOrigin(bool connected);
  void AddReconnect();

 private:
  prometheus::Histogram* lag_ = nullptr;
  prometheus::Counter* applied_origin_ = nullptr;
  prometheus::Counter* applied_peer_ = nullptr;
  prometheus::Counter* applied_bytes_ = nullptr;
  prometheus::Counter* pushed_ = nullptr;
  prometheus::Counter* pushed_bytes_ = nullptr;
  prometheus::Counter* batches_pushed_ = nullptr;
  prometheus::Gauge* subscribers_ = nullptr;
  prometheus::Gauge* origin_head_ = nullptr;
  prometheus::Gauge* connected_ = nullptr;
  prometheus::Counter* reconnects_ = nullptr;
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_REPLICATION_METRICS_H_
