#ifndef KV_REPLICATION_STREAM_SERVER_H_
#define KV_REPLICATION_STREAM_SERVER_H_

// Serves a node's replication stream over plain TCP (stream_frame.h): the edges' fast
// path. It sends exactly what the gRPC Subscribe stream sends (log_cursor.h), but an edge
// pays one thread wake-up per batch: a thread blocked in poll(2) on its socket, where a
// gRPC stream wakes a poller thread that hands each message to a callback thread.
//
// Every caught-up stream is served by one shared sender, the fan-out. It runs on the
// thread that committed each group (Store::AddCommitListener), right after the group is
// durable and before its writers are answered: it reads and encodes the new entries once
// and writes the same frame to every member's socket without blocking. So the origin pays
// no wake-up, one log read and one encoding per batch, not one per edge, and an entry is
// on its way to every caught-up edge before its write is acknowledged. A small thread
// only sends the fan-out's heartbeats. A stream leaves the fan-out for its own thread
// (with whatever part of the frame its socket did not take) when its socket is full or
// fails, or before a chunked value (whose continuations each stream sends itself), and
// rejoins when it has caught up again. The fan-out sends every commit as it lands, so
// with a min_batch_interval there is none: every stream lingers and sends on its own
// thread.
//
// Invariants / thread safety
// - One thread per connection: it handshakes, catches up, and while its stream is in the
//   fan-out waits for it to be handed back. A stream holds at most one batch (<= ~1 MiB
//   plus one stored chunk): a slow subscriber fills its socket's buffers and then waits
//   on its own thread; one that takes no bytes for send_timeout is closed. So a slow or
//   dead subscriber costs a thread, a cursor and one batch, and never holds up commits
//   or the other streams: the fan-out never blocks on a socket. What each commit does
//   pay is the fan-out's work: one log read, one encoding and one non-blocking send per
//   member.
// - A stream joins the fan-out only at the fan-out's own position, so every member gets
//   every entry exactly once, in order.
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
  // Batches (and heartbeats) the fan-out has sent, each once for all its members.
  int64_t fanout_batches() const { return fanout_batches_.load(); }
  // Streams the fan-out serves now.
  int fanout_members();
  // The next log entry the fan-out sends (0: it has no position yet).
  uint64_t fanout_next();
  // Connections whose stream has not ended.
  int open_streams();

  // Ends every stream (subscribers see the connection close and reconnect elsewhere or
  // later), refuses new ones and joins every thread. Idempotent.
  void Stop();

 private:
  struct Connection;
  // What a stream brings back from the fan-out.
  struct Handback {
    uint64_t next = 0;    // the next entry to send
    std::string unsent;   // the rest of a frame its socket did not take
    absl::Status status;  // not OK: the connection failed (or the server stops)
  };

  StreamServer(storage::Store* store, ReplicationMetrics* metrics,
               ReplicationServiceOptions options, Socket listener, int port, int wake_fd);

  void AcceptLoop();
  // Runs one connection to its end.
  void Serve(const std::shared_ptr<Connection>& c);
  // Streams to `c` until it fails or ends; returns why.
  absl::Status Stream(const std::shared_ptr<Connection>& c);
  // Waits for the commit of `cursor`'s next entry, then for the rest of its batch
  // interval if one applies. False if a heartbeat passed (or the waiter stopped) first.
  bool AwaitCommit(const std::shared_ptr<Connection>& w, const LogCursor& cursor);
  // Whether caught-up streams share the fan-out (options: fanout, no batch interval).
  bool fanout_enabled() const;
  // Waits until the store reaches `seq` (true), `deadline` or the waiter stops (false).
  bool Wait(const std::shared_ptr<Connection>& w, uint64_t seq, absl::Time deadline);

  // Hands `c`, caught up at `next`, to the fan-out and waits until it comes back. False
  // (at once) if the fan-out is elsewhere in the log: the stream waits on its own.
  bool JoinFanout(const std::shared_ptr<Connection>& c, uint64_t next,
                  Handback* back);
  // The store's commit listener (the store has applied up to `applied`): sends what the
  // fan-out's members have not got.
  void OnCommit(uint64_t applied);
  // Sends the fan-out's heartbeat when its members got nothing for one.
  void HeartbeatLoop();
  // Sends every committed entry the members have not got (a heartbeat if there is none
  // and `heartbeat`), in batches; hands every member back before a chunked value or if
  // the log cannot be read.
  void ShipPendingLocked(bool heartbeat) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fanout_mu_);
  // Writes `frame` to every member without blocking; hands back those whose socket did
  // not take all of it. `entries`/`bytes`: what the frame carries, for the metrics.
  void ShipLocked(const std::string& frame, int64_t entries, int64_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fanout_mu_);
  // Returns member `i` to its thread (removing it from the members).
  void HandBackLocked(size_t i, Handback back) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fanout_mu_);

  storage::Store* const store_;
  ReplicationMetrics* const metrics_;
  const ReplicationServiceOptions options_;
  Socket listener_;  // closed by Stop() once the accept loop has ended
  const int port_;
  const int wake_fd_;  // eventfd: stops the accept loop
  std::thread accept_thread_;
  std::atomic<int64_t> streams_opened_{0};
  std::atomic<int64_t> fanout_batches_{0};

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);

  // The fan-out: sends from the committing thread (OnCommit) and from a joining stream's
  // thread; heartbeats from its own. Everything under fanout_mu_.
  int commit_listener_ = 0;  // the store's id of OnCommit; 0: none
  std::thread heartbeat_thread_;
  absl::Mutex fanout_mu_ ABSL_ACQUIRED_AFTER(mu_);
  bool fanout_stopped_ ABSL_GUARDED_BY(fanout_mu_) = false;
  // Its next() is the fan-out's position: the next entry every member gets (0: none yet).
  LogCursor fanout_cursor_ ABSL_GUARDED_BY(fanout_mu_);
  kv::replication::v1::LogBatch fanout_batch_ ABSL_GUARDED_BY(fanout_mu_);
  std::string fanout_frame_ ABSL_GUARDED_BY(fanout_mu_);
  // When anything (entries or a heartbeat) last went out.
  absl::Time fanout_last_send_ ABSL_GUARDED_BY(fanout_mu_) = absl::InfinitePast();
  std::vector<std::shared_ptr<Connection>> members_ ABSL_GUARDED_BY(fanout_mu_);
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_STREAM_SERVER_H_
