#include "replication/stream_frame.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/socket.h"
#include "common/status_macros.h"
#include "kv/replication/v1/replication.pb.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

namespace {

constexpr size_t kReadBytes = 64 * 1024;

}  // namespace

void AppendFrame(FrameType type, const google::protobuf::MessageLite& message, std::string* out) {
  const size_t size = message.ByteSizeLong();
  const size_t at = out->size();
  out->resize(at + kFrameHeaderBytes + size);
  char* p = out->data() + at;
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  p[4] = static_cast<char>(type);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p + kFrameHeaderBytes));
}

void AppendEndFrame(const absl::Status& status, std::string* out) {
  v1::StreamEnd end;
  end.set_code(static_cast<int>(status.code()));
  end.set_message(std::string(status.message()));
  AppendFrame(FrameType::kEnd, end, out);
}

bool ParseFrame(const Frame& frame, google::protobuf::MessageLite* message) {
  return message->ParseFromArray(frame.payload.data(), static_cast<int>(frame.payload.size()));
}

absl::Status EndFrameStatus(const Frame& frame) {
  v1::StreamEnd end;
  if (!ParseFrame(frame, &end)) {
    return absl::DataLossError("replication stream: a malformed end frame");
  }
  if (end.code() < 0 || end.code() > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::UnknownError(
        absl::StrCat("stream ended with code ", end.code(), ": ", end.message()));
  }
  return absl::Status(static_cast<absl::StatusCode>(end.code()), end.message());
}

void FrameReader::Feed(absl::string_view bytes) {
  if (buffer_.size() < end_ + bytes.size()) buffer_.resize(end_ + bytes.size());
  std::memcpy(buffer_.data() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

absl::Status FrameReader::Fill(size_t n, absl::Time deadline, absl::Duration idle) {
  while (buffered() < n) {
    if (fd_ < 0) return absl::UnavailableError("the stream ended");
    // The unread bytes (at most a partial frame) go to the front, so the buffer only
    // grows for a frame larger than it.
    Compact();
    const size_t want = std::max(n - buffered(), kReadBytes);
    if (buffer_.size() < end_ + want) buffer_.resize(end_ + want);
    char* into = buffer_.data() + end_;
    const bool blocking = blocking_idle_ > absl::ZeroDuration() && idle == blocking_idle_ &&
                          deadline == absl::InfiniteFuture();
    KV_ASSIGN_OR_RETURN(size_t got, blocking ? ReceiveBlocking(fd_, into, want)
                                             : ReceiveSome(fd_, into, want,
                                                           IdleDeadline(deadline, idle)));
    end_ += got;
  }
  return absl::OkStatus();
}

absl::Status FrameReader::BlockForIdleTimeout(absl::Duration idle) {
  if (idle <= absl::ZeroDuration() || idle == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("the idle timeout must be positive and finite");
  }
  KV_RETURN_IF_ERROR(BlockWithReceiveTimeout(fd_, idle));
  blocking_idle_ = idle;
  return absl::OkStatus();
}

absl::StatusOr<Frame> FrameReader::Next(absl::Time deadline) {
  return NextFrame(deadline, absl::InfiniteDuration());
}

absl::StatusOr<Frame> FrameReader::NextWithIdleTimeout(absl::Duration idle) {
  return NextFrame(absl::InfiniteFuture(), idle);
}

void FrameReader::Compact() {
  if (start_ == 0) return;
  std::memmove(buffer_.data(), buffer_.data() + start_, buffered());
  end_ -= start_;
  start_ = 0;
}

absl::StatusOr<size_t> FrameReader::PeekPayloadSize(FrameType* type) const {
  const unsigned char* h = reinterpret_cast<const unsigned char*>(buffer_.data() + start_);
  const size_t size = static_cast<size_t>(h[0]) | static_cast<size_t>(h[1]) << 8 |
                      static_cast<size_t>(h[2]) << 16 | static_cast<size_t>(h[3]) << 24;
  const uint8_t t = h[4];
  if (t < static_cast<uint8_t>(FrameType::kSubscribe) ||
      t > static_cast<uint8_t>(FrameType::kEnd)) {
    return absl::DataLossError(absl::StrCat("replication stream: unknown frame type ", t));
  }
  if (size > kMaxFramePayload) {
    return absl::DataLossError(absl::StrCat("replication stream: a frame of ", size,
                                            " bytes is above the limit of ", kMaxFramePayload));
  }
  *type = static_cast<FrameType>(t);
  return size;
}

absl::StatusOr<Frame> FrameReader::NextFrame(absl::Time deadline, absl::Duration idle) {
  KV_RETURN_IF_ERROR(Fill(kFrameHeaderBytes, deadline, idle));
  FrameType type;
  KV_ASSIGN_OR_RETURN(size_t size, PeekPayloadSize(&type));
  KV_RETURN_IF_ERROR(Fill(kFrameHeaderBytes + size, deadline, idle));
  Frame frame{type, absl::string_view(buffer_.data() + start_ + kFrameHeaderBytes, size)};
  start_ += kFrameHeaderBytes + size;
  return frame;
}

absl::Status FrameReader::ReadAvailable() {
  if (fd_ < 0) return absl::UnavailableError("the stream ended");
  Compact();
  size_t want = kReadBytes;
  if (buffered() >= kFrameHeaderBytes) {
    FrameType type;
    KV_ASSIGN_OR_RETURN(size_t size, PeekPayloadSize(&type));
    const size_t frame_end = kFrameHeaderBytes + size;  // take the rest of this frame at least
    if (buffered() < frame_end) want = std::max(want, frame_end - buffered());
  }
  if (buffer_.size() < end_ + want) buffer_.resize(end_ + want);
  for (;;) {
    const ssize_t n = recv(fd_, buffer_.data() + end_, want, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return absl::OkStatus();
    }
    if (n == 0) return absl::UnavailableError("the connection was closed");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
  }
}

bool FrameReader::HasWholeFrame() const {
  if (buffered() < kFrameHeaderBytes) return false;
  FrameType type;
  absl::StatusOr<size_t> size = PeekPayloadSize(&type);
  return !size.ok() || buffered() >= kFrameHeaderBytes + *size;
}

absl::StatusOr<std::optional<Frame>> FrameReader::NextBuffered() {
  if (buffered() < kFrameHeaderBytes) return std::nullopt;
  FrameType type;
  KV_ASSIGN_OR_RETURN(size_t size, PeekPayloadSize(&type));
  if (buffered() < kFrameHeaderBytes + size) return std::nullopt;
  Frame frame{type, absl::string_view(buffer_.data() + start_ + kFrameHeaderBytes, size)};
  start_ += kFrameHeaderBytes + size;
  return frame;
}

absl::StatusOr<std::string> FrameReader::ReadExactly(size_t n, absl::Time deadline) {
  KV_RETURN_IF_ERROR(Fill(n, deadline, absl::InfiniteDuration()));
  std::string out(buffer_.data() + start_, n);
  start_ += n;
  return out;
}

}  // namespace kv::replication
