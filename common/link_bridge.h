#ifndef KV_COMMON_LINK_BRIDGE_H_
#define KV_COMMON_LINK_BRIDGE_H_

// A TCP forwarder standing in for one directed network link between two nodes (etcd's
// "bridge"). A node dials bridge.address() instead of the peer; the bridge forwards each
// connection to the peer, delaying the bytes of each direction by the link's one-way
// latency, and can cut or silently blackhole the link.
//
// Invariants / thread safety:
// - One event-loop thread per bridge (ppoll over the listening socket, an eventfd for
//   control calls and every forwarded socket; the next delivery time is the poll timeout).
//   No thread per connection, no busy waiting.
// - Each direction of a connection keeps a FIFO of (deliver_at, bytes); bytes leave in
//   the order read, never before deliver_at. A direction holds at most
//   max_queued_bytes (plus one read): when full the bridge stops reading its source, so
//   TCP backpressure reaches the sender.
// - An EOF is forwarded (shutdown(SHUT_WR) on the other socket) after all bytes read
//   before it, delayed like them. A reset or error on either socket resets both at once
//   (RST via SO_LINGER 0), without delay and even while blackholed.
// - Control calls (SetLatency, Cut, Heal, Blackhole) are thread-safe and take effect
//   before they return: the caller waits (microseconds) until the loop has applied them.
//   They must not be called from the loop thread (the bridge runs no callbacks).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv {

struct LinkBridgeOptions {
  // Delay of each byte in each direction; a request/response round trip costs twice this.
  absl::Duration one_way_latency = absl::ZeroDuration();
  // Bytes one direction of one connection may hold before the bridge stops reading its
  // source (each queued read also costs ~64 bytes of bookkeeping, counted here). Bounds
  // memory at about 2 * connections * (max_queued_bytes + 64 KiB).
  size_t max_queued_bytes = 4 << 20;
  // Connections beyond this many open ones are accepted and closed at once.
  int max_connections = 256;
};

// Counters since Start(). Bytes count what was written to the far socket.
struct LinkBridgeStats {
  uint64_t bytes_to_target = 0;       // client -> target
  uint64_t bytes_to_client = 0;       // target -> client
  uint64_t connections_accepted = 0;  // forwarded connections
  uint64_t connections_refused = 0;   // closed on accept: cut, or over max_connections
  uint64_t connections_reset = 0;     // by Cut(), an error, or the target refusing
  int open_connections = 0;
  uint64_t loop_wakeups = 0;  // event-loop iterations: stays flat while the link is idle
};

namespace link_bridge_internal {

// One direction's FIFO of delayed bytes. Pure logic with explicit times, so it is tested
// without sockets or sleeping. Not thread-safe (owned by the bridge's loop thread).
class DelayedByteQueue {
 public:
  // Bookkeeping cost charged per queued chunk, so that many tiny reads stay bounded too.
  static constexpr size_t kChunkOverhead = 64;

  explicit DelayedByteQueue(size_t capacity) : capacity_(capacity) {}

  // Appends `bytes` (non-empty) to be delivered at `deliver_at`, or right after the
  // previous chunk if that is later (order is preserved when the latency shrinks).
  void Push(absl::Time deliver_at, absl::string_view bytes);
  // Records the end of the stream, delivered after every pushed byte and not before
  // `deliver_at`. REQUIRES: called at most once; no Push afterwards.
  void PushEof(absl::Time deliver_at);

  // Returns whether the source may be read: less than `capacity` is charged.
  bool HasRoom() const { return charged_ < capacity_; }
  // Returns the bytes that may be delivered at `now`: the unsent rest of the front chunk
  // if it is due, else empty. The view is valid until the next non-const call.
  absl::string_view Due(absl::Time now) const;
  // Removes the first `n` bytes of Due(). REQUIRES: n <= Due(now).size().
  void Consume(size_t n);
  // Returns whether the EOF may be delivered at `now`: pushed, not yet delivered, every
  // byte consumed and its time come.
  bool EofDue(absl::Time now) const;
  // Marks the EOF delivered. REQUIRES: EofDue(now) for some now.
  void ConsumeEof() { eof_delivered_ = true; }
  // Returns when the next delivery (bytes or an undelivered EOF) falls due;
  // InfiniteFuture() if nothing is pending.
  absl::Time NextDue() const;

  bool eof_pushed() const { return eof_pushed_; }
  bool eof_delivered() const { return eof_delivered_; }
  // Returns the unsent bytes (without bookkeeping).
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  struct Chunk {
    absl::Time deliver_at;
    std::string bytes;
  };

  const size_t capacity_;
  std::deque<Chunk> chunks_;
  size_t front_offset_ = 0;  // bytes of chunks_.front() already sent
  size_t queued_bytes_ = 0;
  size_t charged_ = 0;
  absl::Time last_deliver_at_ = absl::InfinitePast();
  bool eof_pushed_ = false;
  bool eof_delivered_ = false;
  absl::Time eof_at_ = absl::InfiniteFuture();
};

}  // namespace link_bridge_internal

// A forwarder for one directed link. Thread-safe; see the file comment.
class LinkBridge {
 public:
  // Listens on 127.0.0.1 (ephemeral port) and starts forwarding to `target_address`
  // ("host:port"; host is a loopback IP literal, "[::1]" or "localhost"). The target
  // need not be listening yet: a connection it refuses is reset on the client side.
  // INVALID_ARGUMENT for a malformed or non-loopback target; INTERNAL if sockets or the
  // thread cannot be created.
  static absl::StatusOr<std::unique_ptr<LinkBridge>> Start(std::string target_address,
                                                           LinkBridgeOptions options = {});

  // Stops the loop and resets every open connection.
  ~LinkBridge();

  LinkBridge(const LinkBridge&) = delete;
  LinkBridge& operator=(const LinkBridge&) = delete;

  // Returns "127.0.0.1:<port>", the address to dial instead of the target.
  const std::string& address() const { return address_; }
  // Returns the target address as given to Start().
  const std::string& target_address() const { return target_address_; }

  // Sets the one-way latency (negative means zero) for bytes read from now on; bytes
  // already queued keep their delivery time.
  void SetLatency(absl::Duration one_way_latency);
  // Returns the current one-way latency.
  absl::Duration latency() const;

  // Resets every open connection and, until Heal(), accepts and immediately closes new
  // ones (a cut link: peers see connection errors at once).
  void Cut();
  // Forwards new connections again (connections reset by Cut() stay closed).
  void Heal();
  // Returns whether the link is cut.
  bool is_cut() const;

  // While `on`, keeps connections open and reading but delivers nothing, not even an EOF
  // (a silent partition: peers see only timeouts); new connections are accepted and
  // connected but carry nothing. Queued bytes flow once turned off. Reading stops per
  // direction when max_queued_bytes is queued. Independent of Cut()/Heal().
  void Blackhole(bool on);
  // Returns whether the link is blackholed.
  bool is_blackholed() const;

  // Returns the counters so far.
  LinkBridgeStats stats() const;
  // Returns all bytes delivered, both directions.
  uint64_t bytes_forwarded() const;

 private:
  struct Target;
  class Loop;

  LinkBridge(std::string target_address, std::string address, LinkBridgeOptions options);

  // Wakes the loop and waits until it has applied the control state as of this call.
  void ApplyAndWait() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Wake();

  // Constant after construction.
  const std::string target_address_;
  const std::string address_;
  const LinkBridgeOptions options_;
  int wake_fd_ = -1;  // eventfd; closed by the destructor after the loop stopped

  // Written by the loop thread, read by anyone.
  std::atomic<uint64_t> bytes_to_target_{0};
  std::atomic<uint64_t> bytes_to_client_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> reset_{0};
  std::atomic<int> open_{0};
  std::atomic<uint64_t> wakeups_{0};

  // Control state, read by the loop once per iteration.
  mutable absl::Mutex mu_;
  absl::CondVar applied_cv_;
  absl::Duration latency_ ABSL_GUARDED_BY(mu_);
  bool cut_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t cut_epoch_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by Cut(): reset what is open
  bool blackholed_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;          // bumped by every control call
  uint64_t applied_generation_ ABSL_GUARDED_BY(mu_) = 0;  // last one the loop applied
  bool loop_exited_ ABSL_GUARDED_BY(mu_) = false;

  std::unique_ptr<Loop> loop_;  // the loop's own state; touched only by thread_
  std::thread thread_;
};

}  // namespace kv

#endif  // KV_COMMON_LINK_BRIDGE_H_
