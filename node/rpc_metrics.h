#ifndef KV_NODE_RPC_METRICS_H_
#define KV_NODE_RPC_METRICS_H_

#include <array>
#include <atomic>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/support/status.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace kv::node {

// The RPCs of kv.v1.KV, as metric label values.
enum class Method {
  kCreateNamespace,
  kListNamespaces,
  kRenameNamespace,
  kDeleteNamespace,
  kGet,
  kBulkGet,
  kPut,
  kDelete,
  kBulkPut,
  kBulkDelete,
  kList,
  kCount_,
};

// Request counts and latency histograms per method and status code:
//   kv_rpc_requests_total{method,code}, kv_rpc_duration_seconds{method,code},
//   kv_rpc_value_bytes_total{direction}.
// Series are created on first use. Thread-safe.
class RpcMetrics {
 public:
  explicit RpcMetrics(prometheus::Registry& registry);
  ~RpcMetrics();
  RpcMetrics(const RpcMetrics&) = delete;
  RpcMetrics& operator=(const RpcMetrics&) = delete;

  // Records one finished call.
  void Observe(Method method, grpc::StatusCode code, absl::Duration elapsed);
  // Counts value bytes received (puts) or sent (gets).
  void AddValueBytesIn(int64_t bytes);
  void AddValueBytesOut(int64_t bytes);

 private:
  static constexpr int kCodes = 17;
  struct Series {
    prometheus::Counter* requests;
    prometheus::Histogram* duration;
  };
  Series* GetSeries(Method method, grpc::StatusCode code);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Counter& bytes_in_;
  prometheus::Counter& bytes_out_;

  absl::Mutex mu_;
  std::array<std::atomic<Series*>, static_cast<int>(Method::kCount_) * kCodes> series_{};
};

// Times one call from construction; Finish() records it. Cheap to move.
class RpcTimer {
 public:
  RpcTimer(RpcMetrics* metrics, Method method)
      : metrics_(metrics), method_(method), start_(absl::Now()) {}
  void Finish(grpc::StatusCode code) const {
    if (metrics_ != nullptr) metrics_->Observe(method_, code, absl::Now() - start_);
  }

 private:
  RpcMetrics* metrics_;
  Method method_;
  absl::Time start_;
};

}  // namespace kv::node

#endif  // KV_NODE_RPC_METRICS_H_
