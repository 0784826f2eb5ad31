#include "replication/replication_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace kv::replication {

ReplicationMetrics::ReplicationMetrics(prometheus::Registry& r) {
  lag_ = &prometheus::BuildHistogram()
              .Name("kv_replication_lag_seconds")
              .Help("Time from a write's commit at the origin to its apply on this node")
              .Register(r)
              .Add({}, prometheus::Histogram::BucketBoundaries{
                           0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1,
                           2, 5, 10, 30, 60});
  auto& applied = prometheus::BuildCounter()
                      .Name("kv_replication_entries_applied_total")
                      .Help("Replicated log entries applied here, by where they came from")
                      .Register(r);
  applied_origin_ = &applied.Add({{"source", "origin"}});
  applied_peer_ = &applied.Add({{"source", "peer"}});
  applied_bytes_ = &prometheus::BuildCounter()
                        .Name("kv_replication_bytes_applied_total")
                        .Help("Value bytes of replicated entries applied here")
                        .Register(r)
                        .Add({});
  pushed_ = &prometheus::BuildCounter()
                 .Name("kv_replication_entries_pushed_total")
                 .Help("Log entries sent to subscribers (edges or catching-up peers)")
                 .Register(r)
                 .Add({});
  pushed_bytes_ = &prometheus::BuildCounter()
                       .Name("kv_replication_bytes_pushed_total")
                       .Help("Value bytes sent to subscribers")
                       .Register(r)
                       .Add({});
  batches_pushed_ = &prometheus::BuildCounter()
                        .Name("kv_replication_batches_pushed_total")
                        .Help("Stream messages carrying log entries sent to subscribers "
                              "(entries pushed / this = entries per message)")
                        .Register(r)
                        .Add({});
  subscribers_ = &prometheus::BuildGauge()
                      .Name("kv_replication_subscribers")
                      .Help("Open replication streams served by this node")
                      .Register(r)
                      .Add({});
  origin_head_ = &prometheus::BuildGauge()
                      .Name("kv_replication_origin_head_sequence")
                      .Help("The origin's applied sequence as last reported to this node")
                      .Register(r)
                      .Add({});
  connected_ = &prometheus::BuildGauge()
                    .Name("kv_replication_connected_to_origin")
                    .Help("1 while this edge's replication stream from the origin is up")
                    .Register(r)
                    .Add({});
  reconnects_ = &prometheus::BuildCounter()
                     .Name("kv_replication_reconnects_total")
                     .Help("Times this edge (re)opened its stream from the origin")
                     .Register(r)
                     .Add({});
}

void ReplicationMetrics::ObserveLag(absl::Duration lag) {
  if (lag_) lag_->Observe(std::max(0.0, absl::ToDoubleSeconds(lag)));
}
void ReplicationMetrics::AddApplied(int64_t entries, int64_t bytes, bool from_origin) {
  if (!applied_origin_) return;
  (from_origin ? applied_origin_ : applied_peer_)->Increment(static_cast<double>(entries));
  applied_bytes_->Increment(static_cast<double>(bytes));
}
void ReplicationMetrics::AddPushed(int64_t entries, int64_t bytes) {
  if (!pushed_) return;
  pushed_->Increment(static_cast<double>(entries));
  if (entries > 0) batches_pushed_->Increment();
  pushed_bytes_->Increment(static_cast<double>(bytes));
}
void ReplicationMetrics::AddSubscribers(int delta) {
  if (subscribers_) subscribers_->Increment(delta);
}
void ReplicationMetrics::SetOriginHead(uint64_t sequence) {
  if (origin_head_) origin_head_->Set(static_cast<double>(sequence));
}
void ReplicationMetrics::SetConnectedToOrigin(bool connected) {
  if (connected_) connected_->Set(connected ? 1 : 0);
}
void ReplicationMetrics::AddReconnect() {
  if (reconnects_) reconnects_->Increment();
}

}  // namespace kv::replication
