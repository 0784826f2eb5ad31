#include "replication/follower.h"

#include <sys/socket.h>

#include <atomic>
#include <limits>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/socket.h"
#include "common/status_macros.h"
#include "common/thread_name.h"
#include "kv/replication/v1/replication.grpc.pb.h"
#include "replication/log_applier.h"
#include "replication/stream_frame.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

namespace {

// Bounds asking the origin for its stream's address, connecting, and subscribing.
constexpr absl::Duration kStreamAddressTimeout = absl::Seconds(5);
// Consecutive failed connects to the TCP stream before one attempt over gRPC.
constexpr int kTcpAttemptsBeforeGrpc = 3;
// An edge this many entries behind the origin reads its stream on the follower thread,
// not on the input loop (a catch-up batch is up to 512 entries).
constexpr uint64_t kLoopLagEntries = 256;

}  // namespace

Follower::Follower(storage::Store* store, ChannelFactory* channels, PeerAddress origin,
                   const Clock* clock, ReplicationMetrics* metrics, FollowerOptions options)
    : store_(store),
      channels_(channels),
      origin_(std::move(origin)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)) {}

Follower::~Follower() { Stop(); }

void Follower::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("kv-follow");
    Run();
  });
  watchdog_ = std::thread([this] {
    SetCurrentThreadName("kv-follow-wd");
    // Cancels a stream that went silent: a cut or blackholed link may never error.
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(250));
      if (context_ != nullptr && absl::Now() - last_message_ > options_.silence_timeout) {
        KV_LOG_WARNING("no message from origin ", origin_.id, " for ",
                       absl::FormatDuration(options_.silence_timeout), "; reconnecting");
        context_->TryCancel();
        last_message_ = absl::Now();
      }
    }
  });
}

void Follower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
    if (socket_ >= 0) shutdown(socket_, SHUT_RDWR);  // wakes the follower thread's read
  }
  if (thread_.joinable()) thread_.join();
  if (watchdog_.joinable()) watchdog_.join();
}

void Follower::Run() {
  absl::BitGen gen;
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    metrics_->AddReconnect();
    const int64_t applied_before = static_cast<int64_t>(store_->AppliedSequence());
    absl::Status s = Stream();
    connected_ = false;
    metrics_->SetConnectedToOrigin(false);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (s.code() == absl::StatusCode::kFailedPrecondition ||
        s.code() == absl::StatusCode::kOutOfRange) {
      KV_LOG_WARNING("origin ", origin_.id, " refused replication: ", s.ToString());
      if (on_needs_repair_) on_needs_repair_(s);
    } else if (!s.ok() && s.code() != absl::StatusCode::kCancelled) {
      KV_LOG_WARNING("replication stream from origin ", origin_.id, " ended: ", s.ToString());
    }
    // Progress resets the backoff: a stream that delivered entries was healthy.
    if (static_cast<int64_t>(store_->AppliedSequence()) > applied_before) {
      backoff = options_.initial_backoff;
    }
    const absl::Duration wait = backoff * absl::Uniform(gen, 0.5, 1.5);
    backoff = std::min(backoff * 2, options_.max_backoff);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
  }
}

// Reads one stream with the callback API, so each batch is applied on the gRPC thread
// that received it rather than handed to the follower thread and back (two thread
// switches per batch on a replica). One read is outstanding at a time: the next starts
// only once a batch is applied, which keeps entries in order and memory bounded.
class Follower::StreamReader final : public grpc::ClientReadReactor<v1::LogBatch> {
 public:
  StreamReader(Follower* follower, grpc::ClientContext* context, bool fresh)
      : follower_(follower),
        context_(context),
        fresh_(fresh),
        applier_(follower->store_, storage::Sequencing::kReplicated, follower->clock_,
                 follower->metrics_, /*from_origin=*/true) {}

  void Start() {
    StartRead(&batch_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows (no lock taken here: see Stop())
    {
      absl::MutexLock lock(&follower_->mu_);
      follower_->last_message_ = absl::Now();  // for the silence watchdog
    }
    absl::Status s = follower_->OnBatch(batch_, fresh_, &first_, &applier_);
    if (!s.ok()) {
      status_ = std::move(s);
      context_->TryCancel();  // OnDone follows
      return;
    }
    StartRead(&batch_);
  }

  void OnDone(const grpc::Status& status) override {
    final_ = status;
    done_.Notify();
  }

  // Waits for the end of the stream; returns why it ended.
  absl::Status Wait() {
    done_.WaitForNotification();
    return status_.ok() ? FromGrpcStatus(final_) : status_;
  }

 private:
  Follower* const follower_;
  grpc::ClientContext* const context_;
  const bool fresh_;
  LogApplier applier_;
  v1::LogBatch batch_;
  bool first_ = true;
  absl::Status status_;  // a failure to apply, which ends the stream
  grpc::Status final_;
  absl::Notification done_;
};

absl::Status Follower::OnBatch(const v1::LogBatch& batch, bool fresh, bool* first,
                               LogApplier* applier) {
  if (*first) {
    *first = false;
    connected_ = true;
    metrics_->SetConnectedToOrigin(true);
    if (fresh && batch.epoch() != store_->Epoch()) {
      KV_RETURN_IF_ERROR(store_->ResetLog(batch.epoch(), 0));
    }
  }
  origin_head_ = batch.sender_applied_sequence();
  metrics_->SetOriginHead(batch.sender_applied_sequence());
  return applier->Apply(batch);
}

bool Follower::TrackCall(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  context_ = ctx;
  last_message_ = absl::Now();
  return true;
}

void Follower::UntrackCall() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

v1::SubscribeRequest Follower::NextRequest(bool* fresh) const {
  v1::SubscribeRequest request;
  request.set_node_id(options_.node_id);
  request.set_from_sequence(store_->AppliedSequence() + 1);
  // A replica that never applied anything follows whatever lineage the origin has.
  *fresh = store_->AppliedSequence() == 0;
  request.set_epoch(*fresh ? 0 : store_->Epoch());
  request.set_follow(true);
  return request;
}

absl::Status Follower::Stream() {
  std::unique_ptr<v1::Replication::Stub> stub = v1::Replication::NewStub(channels_->Dial(origin_));
  if (options_.transport == StreamTransport::kGrpc) return StreamGrpc(stub.get());
  if (tcp_connect_failures_ >= kTcpAttemptsBeforeGrpc) {
    // The origin's stream port cannot be reached (a firewall, a port mapping): follow
    // over gRPC this time, and try TCP again after it.
    KV_LOG_WARNING("cannot reach the TCP replication stream of origin ", origin_.id, " (",
                   tcp_connect_failures_, " attempts); following over gRPC");
    tcp_connect_failures_ = 0;
    return StreamGrpc(stub.get());
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kStreamAddressTimeout));
  if (!TrackCall(&ctx)) return absl::CancelledError("stopping");
  v1::StreamAddressResponse address;
  grpc::Status asked = stub->StreamAddress(&ctx, v1::StreamAddressRequest(), &address);
  UntrackCall();
  if (asked.error_code() == grpc::StatusCode::UNIMPLEMENTED || (asked.ok() && address.port() == 0)) {
    return StreamGrpc(stub.get());  // the origin serves no TCP stream
  }
  if (!asked.ok()) return FromGrpcStatus(asked);
  return StreamTcp(address.port());
}

absl::Status Follower::StreamTcp(int port) {
  std::string host;
  int grpc_port = 0;
  KV_RETURN_IF_ERROR(SplitHostPort(origin_.address, &host, &grpc_port));
  KV_ASSIGN_OR_RETURN(std::string route, channels_->RouteStream(origin_, JoinHostPort(host, port)));
  absl::Cleanup forget = [this] {
    absl::MutexLock lock(&mu_);
    socket_ = -1;  // before the socket closes, so Stop() never touches a reused descriptor
  };
  // The descriptor is published before connecting, so Stop() cuts a slow connect short.
  absl::StatusOr<Socket> connected =
      ConnectTcp(route, absl::Now() + kStreamAddressTimeout, [this](int fd) {
        absl::MutexLock lock(&mu_);
        if (stopping_) return false;
        socket_ = fd;
        return true;
      });
  if (!connected.ok()) {
    if (connected.status().code() != absl::StatusCode::kCancelled) ++tcp_connect_failures_;
    return connected.status();
  }
  tcp_connect_failures_ = 0;
  Socket socket = std::move(*connected);
  bool fresh = false;
  std::string out(kStreamMagic);
  AppendFrame(FrameType::kSubscribe, NextRequest(&fresh), &out);
  KV_RETURN_IF_ERROR(SendAll(socket.fd(), out, absl::Now() + kStreamAddressTimeout));
  FrameReader reader(socket.fd());
  KV_RETURN_IF_ERROR(reader.BlockForIdleTimeout(options_.silence_timeout));
  LogApplier applier(store_, storage::Sequencing::kReplicated, clock_, metrics_,
                     /*from_origin=*/true);
  v1::LogBatch batch;
  bool first = true;
  StreamState state{&reader, &applier, &batch, &first, fresh};
  origin_head_ = std::numeric_limits<uint64_t>::max();  // unknown until the first batch
  for (;;) {
    // Caught up (and between values, with no whole frame read ahead): the loop serves
    // the stream until it falls behind again. Catching up stays here, so the loop's
    // clients never wait for a backlog's large batches.
    if (options_.input_loop != nullptr && !loop_stopped_ && !applier.in_value() &&
        !reader.HasWholeFrame() && store_->AppliedSequence() >= origin_head_) {
      absl::StatusOr<bool> handed_back = StreamOnLoop(socket.fd(), state);
      if (!handed_back.ok()) return handed_back.status();
      if (!*handed_back) return absl::OkStatus();  // ended as the origin said: caught up
    }
    // The origin heartbeats every second: silence (not a slow, large frame) means trouble.
    absl::StatusOr<Frame> frame = reader.NextWithIdleTimeout(options_.silence_timeout);
    if (!frame.ok()) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return absl::CancelledError("stopping");
      }
      if (frame.status().code() == absl::StatusCode::kDeadlineExceeded) return SilenceError();
      return frame.status();
    }
    if (frame->type == FrameType::kEnd) return EndFrameStatus(*frame);
    KV_RETURN_IF_ERROR(ApplyBatchFrame(*frame, state));
  }
}

absl::Status Follower::ApplyBatchFrame(const Frame& frame, const StreamState& stream) {
  if (frame.type != FrameType::kBatch || !ParseFrame(frame, stream.batch)) {
    return absl::DataLossError("replication stream: a malformed batch");
  }
  return OnBatch(*stream.batch, stream.fresh, stream.first, stream.applier);
}

absl::Status Follower::SilenceError() const {
  return absl::UnavailableError(
      absl::StrCat("no message for ", absl::FormatDuration(options_.silence_timeout)));
}

absl::StatusOr<bool> Follower::StreamOnLoop(int socket, const StreamState& stream) {
  // What the loop's thread uses besides `stream`; it is done with both once `ended` is
  // notified.
  struct Watch {
    // Why the stream ended; set by the handler whenever it ends the watch.
    absl::Status status = absl::UnavailableError("the stream was never read");
    bool handed_back = false;   // behind again: the follower thread reads on
    bool loop_stopped = false;  // the loop stopped, or could not watch the socket
    // When input last arrived or a handler call ended: the origin's silence is
    // measured from there, never across the loop's own work.
    std::atomic<int64_t> last_input_ns{absl::ToUnixNanos(absl::Now())};
    std::atomic<bool> in_handler{false};
    absl::Notification ended;
  } watch;
  options_.input_loop->Watch(
      socket,
      [this, &watch, &stream] {
        watch.in_handler.store(true);
        absl::Cleanup done = [&watch] {
          watch.last_input_ns.store(absl::ToUnixNanos(absl::Now()));
          watch.in_handler.store(false);
        };
        // One read per call, then every whole batch it completed: the loop's other
        // clients wait at most for what one read brought.
        absl::Status s = stream.reader->ReadAvailable();
        while (s.ok()) {
          absl::StatusOr<std::optional<Frame>> frame = stream.reader->NextBuffered();
          if (!frame.ok()) {
            s = frame.status();
          } else if (!frame->has_value()) {
            return true;
          } else if ((*frame)->type == FrameType::kEnd) {
            watch.status = EndFrameStatus(**frame);  // OK: caught up
            return false;
          } else {
            s = ApplyBatchFrame(**frame, stream);
            // Far behind (a backlog after a stall) or inside a chunked value: back to
            // the follower thread, whatever else is buffered included.
            if (s.ok() && (stream.applier->in_value() ||
                           origin_head_ > store_->AppliedSequence() + kLoopLagEntries)) {
              watch.handed_back = true;
              return false;
            }
          }
        }
        watch.status = std::move(s);
        return false;
      },
      [&watch](bool loop_stopped) {
        watch.loop_stopped = loop_stopped;
        watch.ended.Notify();
      });
  // The origin heartbeats every second: silence means a cut or blackholed link. A
  // shutdown ends the watch (the loop reads the end of input).
  bool cut = false;
  absl::Duration wait = options_.silence_timeout;
  while (!watch.ended.WaitForNotificationWithTimeout(wait)) {
    const absl::Duration quiet =
        absl::Now() - absl::FromUnixNanos(watch.last_input_ns.load());
    wait = std::max(options_.silence_timeout - quiet, absl::Milliseconds(50));
    if (!cut && !watch.in_handler.load() && quiet > options_.silence_timeout) {
      cut = true;
      shutdown(socket, SHUT_RDWR);
    }
  }
  if (watch.loop_stopped) {
    loop_stopped_ = true;  // the node is stopping: this thread reads on
    return true;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
  }
  if (cut) return SilenceError();
  if (watch.handed_back) return true;
  if (!watch.status.ok()) return watch.status;
  return false;
}

absl::Status Follower::StreamGrpc(v1::Replication::Stub* stub) {
  grpc::ClientContext ctx;
  bool fresh = false;
  const v1::SubscribeRequest request = NextRequest(&fresh);
  if (!TrackCall(&ctx)) return absl::CancelledError("stopping");
  StreamReader reader(this, &ctx, fresh);
  stub->async()->Subscribe(&ctx, &request, &reader);
  reader.Start();
  absl::Status status = reader.Wait();
  UntrackCall();
  return status;
}

}  // namespace kv::replication
