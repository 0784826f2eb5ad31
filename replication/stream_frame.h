#ifndef KV_REPLICATION_STREAM_FRAME_H_
#define KV_REPLICATION_STREAM_FRAME_H_

// The wire format of the replication stream over plain TCP (doc/replication.md):
//
//   subscriber -> sender: the 4 bytes "EKV1", then one kSubscribe frame
//   sender -> subscriber: kBatch frames, and at most one kEnd frame, last
//
// A frame is a 4-byte little-endian payload length, a 1-byte type, and the payload: the
// serialized SubscribeRequest, LogBatch or StreamEnd of kv.replication.v1. A batch holds
// at most ~1 MiB of values plus one 1 MiB chunk, so a payload above kMaxFramePayload
// means a broken or foreign peer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"

namespace kv::replication {

inline constexpr absl::string_view kStreamMagic = "EKV1";
inline constexpr size_t kFrameHeaderBytes = 5;
inline constexpr size_t kMaxFramePayload = 64 << 20;

enum class FrameType : uint8_t { kSubscribe = 1, kBatch = 2, kEnd = 3 };

// Appends `message` as a frame of `type` to `out`.
void AppendFrame(FrameType type, const google::protobuf::MessageLite& message, std::string* out);

// Appends the kEnd frame that ends a stream with `status` (OK: caught up).
void AppendEndFrame(const absl::Status& status, std::string* out);

struct Frame {
  FrameType type;
  absl::string_view payload;  // valid until the reader's next call
};

// Parses `frame`'s payload into `message`; false if it is not one.
bool ParseFrame(const Frame& frame, google::protobuf::MessageLite* message);

// Returns the status a kEnd frame carries; DATA_LOSS if the payload is malformed, UNKNOWN
// for a code outside absl's.
absl::Status EndFrameStatus(const Frame& frame);

// Splits a byte stream into frames; the bytes come from a socket (Next) or, in tests,
// from Feed. Not thread-safe.
class FrameReader {
 public:
  // Reads from socket `fd` (not owned); -1 for a reader fed by hand.
  explicit FrameReader(int fd) : fd_(fd) {}

  // Returns the next frame, reading the socket until `deadline`: DEADLINE_EXCEEDED if
  // no whole frame arrived in time, UNAVAILABLE if the connection ended or failed,
  // DATA_LOSS for a frame of unknown type or above kMaxFramePayload.
  absl::StatusOr<Frame> Next(absl::Time deadline);
  // The same, but the wait ends only once no byte at all arrived for `idle`: a large
  // frame on a slow link may take longer as long as it keeps coming.
  absl::StatusOr<Frame> NextWithIdleTimeout(absl::Duration idle);

  // From now on, NextWithIdleTimeout(idle) waits in a blocking recv() with `idle` as the
  // socket's receive timeout (BlockWithReceiveTimeout) instead of polling: one system
  // call per batch for a follower that is idle between batches. Next() still polls.
  absl::Status BlockForIdleTimeout(absl::Duration idle);

  // For a reader driven by an event loop (InputLoop): one non-blocking read of what the
  // socket holds (at least the rest of a frame whose header has arrived, if it is there);
  // OK if it read nothing, UNAVAILABLE if the connection ended or failed. Frames returned
  // by NextBuffered stay valid until the next ReadAvailable.
  absl::Status ReadAvailable();
  // The next frame already buffered, or nullopt if none is whole yet; DATA_LOSS as Next.
  absl::StatusOr<std::optional<Frame>> NextBuffered();
  // Returns true if a whole frame (or a malformed header) is buffered: the next call
  // returns without reading.
  bool HasWholeFrame() const;

  // Reads exactly `n` bytes before `deadline` (the connection's magic).
  absl::StatusOr<std::string> ReadExactly(size_t n, absl::Time deadline);

  // Appends bytes as if received (tests).
  void Feed(absl::string_view bytes);

 private:
  // Buffers at least `n` unread bytes, reading the socket until `deadline`, or until
  // `idle` passes without a byte.
  absl::Status Fill(size_t n, absl::Time deadline, absl::Duration idle);
  absl::StatusOr<Frame> NextFrame(absl::Time deadline, absl::Duration idle);
  // The payload size announced by the buffered header (which must be there); DATA_LOSS
  // for an unknown type or a payload above kMaxFramePayload.
  absl::StatusOr<size_t> PeekPayloadSize(FrameType* type) const;
  // Moves the unread bytes to the front of the buffer.
  void Compact();
  size_t buffered() const { return end_ - start_; }

  const int fd_;
  // Set by BlockForIdleTimeout: the socket's receive timeout.
  absl::Duration blocking_idle_ = absl::ZeroDuration();
  std::vector<char> buffer_;
  size_t start_ = 0;  // first unread byte
  size_t end_ = 0;    // one past the last received byte
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_STREAM_FRAME_H_
