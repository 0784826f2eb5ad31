#ifndef KV_REPLICATION_REPLICATION_SERVICE_H_
#define KV_REPLICATION_REPLICATION_SERVICE_H_

// Serves kv.replication.v1.Replication: streams this node's log to subscribers. Every
// node runs it: the origin feeds its edges, and any replica can feed a peer catching up.
// The same stream is also served over plain TCP (stream_server.h) once ServeTcp() is
// called; StreamAddress tells subscribers its port.
//
// Invariants / thread safety
// - A stream holds at most one batch (<= ~1 MiB plus one stored chunk) in memory and
//   reads the next only after the previous was sent, so a slow or dead subscriber costs
//   a cursor and one batch, and never slows commits: the committer only wakes it.
// - Log reads run on the service's executor, never on gRPC or committer threads.
// Thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/executor.h"
#include "kv/replication/v1/replication.grpc.pb.h"
#include "replication/log_cursor.h"
#include "replication/replication_metrics.h"
#include "replication/stream_server.h"
#include "storage/store.h"

namespace kv::replication {


class ReplicationService final : public kv::replication::v1::Replication::CallbackService {
 public:
  // `store` and `metrics` must outlive the service.
  ReplicationService(storage::Store* store, ReplicationMetrics* metrics,
                     ReplicationServiceOptions options);
  ~ReplicationService() override;

  grpc::ServerWriteReactor<kv::replication::v1::LogBatch>* Subscribe(
      grpc::CallbackServerContext* call,
      const kv::replication::v1::SubscribeRequest* request) override;

  // Ends every open stream with UNAVAILABLE (subscribers reconnect elsewhere or later)
  // and refuses new ones. Streams follow forever, so a node shutting down calls this
  // before it waits for in-flight calls.
  void Stop();

  // Starts serving the stream over plain TCP on `host`:`port` (0: any free port).
  absl::Status ServeTcp(const std::string& host, int port);
  // The TCP stream's port; 0 before ServeTcp().
  int tcp_port() const;
  // Connections the TCP stream accepted so far.
  int64_t tcp_streams_opened() const { return tcp_ ? tcp_->streams_opened() : 0; }

  grpc::ServerUnaryReactor* StreamAddress(
      grpc::CallbackServerContext* call, const kv::replication::v1::StreamAddressRequest* request,
      kv::replication::v1::StreamAddressResponse* response) override;

 private:
  class SubscribeReactor;
  struct StreamState;
  // Records an open stream; false once stopped.
  bool Register(const std::shared_ptr<StreamState>& state);

  storage::Store* const store_;
  ReplicationMetrics* const metrics_;
  const ReplicationServiceOptions options_;
  // Open streams, to end them on Stop().
  absl::Mutex streams_mu_;
  bool stopped_ ABSL_GUARDED_BY(streams_mu_) = false;
  std::vector<std::weak_ptr<StreamState>> streams_ ABSL_GUARDED_BY(streams_mu_);
  // Lets store callbacks that outlive the service find it gone.
  struct Scheduler {
    absl::Mutex mu;
    Executor* executor ABSL_GUARDED_BY(mu) = nullptr;
  };
  std::shared_ptr<Scheduler> scheduler_;
  Executor executor_;
  std::unique_ptr<StreamServer> tcp_;  // set once by ServeTcp()
  std::atomic<int> tcp_port_{0};
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_REPLICATION_SERVICE_H_
