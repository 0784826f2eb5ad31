#ifndef KV_REPLICATION_FOLLOWER_H_
#define KV_REPLICATION_FOLLOWER_H_

// An edge's fast path: a long-lived stream of the origin's log, resumed from the edge's
// persisted applied sequence after any failure, applying entries as they arrive. The
// stream runs over plain TCP (stream_server.h; the origin's port comes from its
// StreamAddress RPC), or over gRPC Subscribe when so configured or when the origin serves
// no TCP stream.
//
// Invariants / thread safety
// - Entries are applied in sequence order, each durable (with the applied sequence, in
//   the same batch) before the next message is read, so a crash at any point resumes
//   without loss or repetition beyond what last-writer-wins absorbs.
// - A silent origin (no message for `silence_timeout`; it heartbeats every second) or a
//   failed stream is reconnected with jittered exponential backoff.
// - When the origin refuses the stream because this edge holds another log lineage or is
//   behind the retained log, `on_needs_repair` is called (from the follower thread) and
//   the follower retries after it returns.
// - Over TCP the follower thread reads and applies each batch, or with an input_loop
//   that loop's thread does; over gRPC batches are applied on the gRPC thread that
//   received them. Either way one at a time, as a local LevelDB write without fsync.
// Thread-safe; Start/Stop from one owner thread.

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/channel_factory.h"
#include "common/clock.h"
#include "common/input_loop.h"
#include "grpcpp/grpcpp.h"
#include "kv/replication/v1/replication.grpc.pb.h"
#include "replication/log_applier.h"
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace kv::replication {

class FrameReader;
struct Frame;

enum class StreamTransport { kTcp, kGrpc };

struct FollowerOptions {
  std::string node_id;
  StreamTransport transport = StreamTransport::kTcp;
  // Reconnect after this long without a message (the origin heartbeats every second).
  absl::Duration silence_timeout = absl::Seconds(5);
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  // If set, a caught-up TCP stream is read and applied on this loop's thread (the
  // node's RESP port), so one wake-up serves a batch and the reads that came with it; a
  // backlog (more than 256 entries behind) or a chunked value is read on the follower
  // thread, which also watches for silence. Not owned; must outlive the follower.
  // Null: the follower thread reads the stream itself.
  InputLoop* input_loop = nullptr;
};

class Follower {
 public:
  // Everything passed must outlive the follower.
  Follower(storage::Store* store, ChannelFactory* channels, PeerAddress origin,
           const Clock* clock, ReplicationMetrics* metrics, FollowerOptions options);
  ~Follower();

  // Called when the origin refuses the stream (FAILED_PRECONDITION: other lineage;
  // OUT_OF_RANGE: behind the retained log) with that status. Set before Start().
  void set_on_needs_repair(std::function<void(const absl::Status&)> fn) {
    on_needs_repair_ = std::move(fn);
  }

  void Start();
  // Cancels the stream and joins the thread.
  void Stop();

  // Returns true while a stream from the origin is open.
  bool connected() const { return connected_.load(); }

 private:
  class StreamReader;

  void Run();
  // Runs one stream until it fails or Stop(); returns its final status.
  absl::Status Stream();
  absl::Status StreamGrpc(kv::replication::v1::Replication::Stub* stub);
  // The stream over TCP to the origin's `port` (on its gRPC host).
  absl::Status StreamTcp(int port);
  // One TCP stream's reading state, owned by StreamTcp.
  struct StreamState {
    FrameReader* reader;
    LogApplier* applier;
    kv::replication::v1::LogBatch* batch;
    bool* first;
    bool fresh;
  };
  // Reads the subscribed stream on `socket` on options_.input_loop, continuing
  // `stream`, until it ends or falls behind. Returns true if this thread must read on
  // (behind again, or the loop stopped), false if the origin ended the stream as caught
  // up, or why the stream failed.
  absl::StatusOr<bool> StreamOnLoop(int socket, const StreamState& stream);
  // Applies a TCP stream's batch frame; DATA_LOSS if it is not one.
  absl::Status ApplyBatchFrame(const Frame& frame, const StreamState& stream);
  // Why a stream that went silent for silence_timeout was cut.
  absl::Status SilenceError() const;
  // Makes `ctx`'s call the one Stop() and the silence watchdog cancel; false (and not
  // tracked) when stopping. UntrackCall() before `ctx` goes.
  bool TrackCall(grpc::ClientContext* ctx);
  void UntrackCall();
  // The subscription for the next stream; `fresh` if this replica applied nothing yet.
  kv::replication::v1::SubscribeRequest NextRequest(bool* fresh) const;
  // Applies one batch of the stream (on a gRPC thread); `first` is true for the stream's
  // first batch (and cleared here); `fresh` if this replica had applied nothing.
  absl::Status OnBatch(const kv::replication::v1::LogBatch& batch, bool fresh, bool* first,
                       LogApplier* applier);

  storage::Store* const store_;
  ChannelFactory* const channels_;
  const PeerAddress origin_;
  const Clock* const clock_;
  ReplicationMetrics* const metrics_;
  const FollowerOptions options_;
  std::function<void(const absl::Status&)> on_needs_repair_;

  std::atomic<bool> connected_{false};
  int tcp_connect_failures_ = 0;  // consecutive; the follower thread only
  bool loop_stopped_ = false;     // the input loop stopped: read on this thread; ditto
  // The origin's head as the last batch reported it (the thread applying batches only).
  std::atomic<uint64_t> origin_head_{0};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;  // of the open gRPC stream
  int socket_ ABSL_GUARDED_BY(mu_) = -1;                          // of the open TCP stream
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  std::thread watchdog_;
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_FOLLOWER_H_
