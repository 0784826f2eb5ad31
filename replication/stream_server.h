#ifndef KV_REPLICATION_STREAM_SERVER_H_
#define KV_REPLICATION_STREAM_SERVER_H_

// Serves a node's replication stream over plain TCP (stream_frame.h): the edges' fast
// path. It sends exactly what the gRPC Subscribe stream sends (log_cursor.h), but an edge
// pays one thread wake-up per batch: a thread blocked in poll(2) on its socket, where a
// gRPC stream wakes a poller thread that hands each message to a callback thread.
//
// Invariants / thread safety
// - One thread per connection, blocked in poll(2) on its socket or waiting for the next
//   commit (the committer only wakes it). A stream holds at most one batch (<= ~1 MiB
//   plus one stored chunk): a slow subscriber fills its socket's buffers and then waits,
//   a subscriber that takes nothing for send_timeout is closed, so a slow or dead one
//   costs a thread, a cursor and one batch, and never slows commits.
// - At most kMaxStreams connections; more are closed at once.
// - Stop() (also run by the destructor) ends every stream and joins every thread.
// Thread-safe.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/socket.h"
#include "replication/log_cursor.h"
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace kv::replication {

class StreamServer {
 public:
  static constexpr int kMaxStreams = 256;
  // A connection must send its subscription within this.
  static constexpr absl::Duration kHandshakeTimeout = absl::Seconds(10);

  // Serves `store`'s log on `host`:`port` (0: any free port). `store` and `metrics` must
  // outlive the server.
  static absl::StatusOr<std::unique_ptr<StreamServer>> Start(storage::Store* store,
                                                            ReplicationMetrics* metrics,
                                                            ReplicationServiceOptions options,
                                                            const std::string& host, int port);
  ~StreamServer();

  int port() const { return port_; }
  // Connections accepted so far.
  int64_t streams_opened() const { return streams_opened_.load(); }

  // Ends every stream (subscribers see the connection close and reconnect elsewhere or
  // later), refuses new ones and joins every thread. Idempotent.
  void Stop();

 private:
  struct Connection;

  StreamServer(storage::Store* store, ReplicationMetrics* metrics,
               ReplicationServiceOptions options, Socket listener, int port, int wake_fd);

  void AcceptLoop();
  // Runs one connection to its end.
  void Serve(const std::shared_ptr<Connection>& c);
  // Streams to `c` until it fails or ends; returns why.
  absl::Status Stream(const std::shared_ptr<Connection>& c);
  // Waits until the store reaches `seq` (true), `deadline` or Stop() (false).
  bool Wait(const std::shared_ptr<Connection>& c, uint64_t seq, absl::Time deadline);

  storage::Store* const store_;
  ReplicationMetrics* const metrics_;
  const ReplicationServiceOptions options_;
  const Socket listener_;
  const int port_;
  const int wake_fd_;  // eventfd: stops the accept loop
  std::thread accept_thread_;
  std::atomic<int64_t> streams_opened_{0};

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_STREAM_SERVER_H_
