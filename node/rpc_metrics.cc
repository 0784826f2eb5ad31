#include "node/rpc_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace kv::node {
namespace {

const char* MethodName(Method m) {
  static constexpr const char* kNames[] = {
      "CreateNamespace", "ListNamespaces", "RenameNamespace", "DeleteNamespace",
      "Get",             "BulkGet",        "Put",             "Delete",
      "BulkPut",         "BulkDelete",     "List"};
  return kNames[static_cast<int>(m)];
}

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",           "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("kv_rpc_requests_total")
                    .Help("Finished kv.v1.KV calls by method and gRPC status code")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("kv_rpc_duration_seconds")
                    .Help("Duration of kv.v1.KV calls by method and gRPC status code")
                    .Register(registry)),
      bytes_in_(prometheus::BuildCounter()
                    .Name("kv_rpc_value_bytes_total")
                    .Help("Value bytes moved through the API")
                    .Register(registry)
                    .Add({{"direction", "in"}})),
      bytes_out_(prometheus::BuildCounter()
                     .Name("kv_rpc_value_bytes_total")
                     .Help("Value bytes moved through the API")
                     .Register(registry)
                     .Add({{"direction", "out"}})) {}

RpcMetrics::~RpcMetrics() {
  for (auto& slot : series_) delete slot.load();
}

RpcMetrics::Series* RpcMetrics::GetSeries(Method method, grpc::StatusCode code) {
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = static_cast<int>(grpc::StatusCode::UNKNOWN);
  std::atomic<Series*>& slot = series_[static_cast<int>(method) * kCodes + c];
  if (Series* s = slot.load(std::memory_order_acquire)) return s;
  absl::MutexLock lock(&mu_);
  if (Series* s = slot.load(std::memory_order_acquire)) return s;
  const std::map<std::string, std::string> labels = {{"method", MethodName(method)},
                                                     {"code", CodeName(code)}};
  auto* series = new Series{
      &requests_.Add(labels),
      &duration_.Add(labels, prometheus::Histogram::BucketBoundaries{
                                 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})};
  slot.store(series, std::memory_order_release);
  return series;
}

void RpcMetrics::Observe(Method method, grpc::StatusCode code, absl::Duration elapsed) {
  Series* s = GetSeries(method, code);
  s->requests->Increment();
  s->duration->Observe(absl::ToDoubleSeconds(elapsed));
}

void RpcMetrics::AddValueBytesIn(int64_t bytes) { bytes_in_.Increment(static_cast<double>(bytes)); }
void RpcMetrics::AddValueBytesOut(int64_t bytes) {
  bytes_out_.Increment(static_cast<double>(bytes));
}

}  // namespace kv::node
