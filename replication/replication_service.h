#ifndef KV_REPLICATION_REPLICATION_SERVICE_H_
#define KV_REPLICATION_REPLICATION_SERVICE_H_

// Serves kv.replication.v1.Replication: streams this node's log to subscribers. Every
// node runs it: the origin feeds its edges, and any replica can feed a peer catching up.
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
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace kv::replication {

struct ReplicationServiceOptions {
  // An idle stream sends an empty batch this often, so subscribers notice a dead sender
  // quickly and learn the sender's position.
  absl::Duration heartbeat = absl::Seconds(1);
  // Entries per batch, and value bytes per batch (a chunked value travels alone).
  int batch_entries = 512;
  int64_t batch_bytes = 1 << 20;
  // Threads reading the log for all streams.
  int threads = 2;
  // Least time between two batches of entries on one stream. A commit arriving sooner
  // waits out the rest of it (or until a full batch has accumulated), so under a steady
  // stream of writes each message carries several entries: a replica's cost is mostly
  // per message. An idle stream sends at once. 0 sends every commit as it comes.
  absl::Duration min_batch_interval = absl::Milliseconds(2);
};

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

 private:
  class SubscribeReactor;
  struct StreamState;
  // Records an open stream; false once stopped.
  bool Register(const std::shared_ptr<StreamState>& state);

  storage::Store* const store_;
  ReplicationMetrics* const metrics_;
  const ReplicationServiceOptions options_;
  std::atomic<int> subscribers_{0};
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
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_REPLICATION_SERVICE_H_
