#include "replication/stream_frame.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "absl/time/clock.h"
#include "common/socket.h"
#include "common/testing/status_matchers.h"
#include "kv/replication/v1/replication.pb.h"

namespace kv::replication {
namespace {

using ::kv::testing::IsOk;

v1::LogBatch Batch(uint64_t first, int n, size_t value_bytes) {
  v1::LogBatch batch;
  batch.set_epoch(7);
  batch.set_sender_applied_sequence(first + n);
  for (int i = 0; i < n; ++i) {
    v1::LogEntry* e = batch.add_entries();
    e->set_sequence(first + i);
    e->mutable_record()->set_key("k" + std::to_string(first + i));
    e->mutable_record()->set_value_chunk(std::string(value_bytes, 'v'));
  }
  return batch;
}

TEST(StreamFrameTest, FramesRoundTripWhateverPiecesTheyArriveIn) {
  std::string wire;
  const v1::LogBatch a = Batch(1, 3, 10);
  const v1::LogBatch b = Batch(4, 1, 100000);  // larger than one read
  v1::StreamEnd end;
  end.set_code(9);
  end.set_message("epoch mismatch");
  AppendFrame(FrameType::kBatch, a, &wire);
  AppendFrame(FrameType::kBatch, b, &wire);
  AppendFrame(FrameType::kEnd, end, &wire);
  for (size_t piece : {size_t{1}, size_t{7}, wire.size()}) {
    FrameReader reader(-1);
    for (size_t at = 0; at < wire.size(); at += piece) reader.Feed(wire.substr(at, piece));
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<Frame> f = reader.Next(absl::InfiniteFuture());
      ASSERT_TRUE(f.ok()) << f.status();
      got.push_back(std::to_string(static_cast<int>(f->type)) + std::string(f->payload));
    }
    EXPECT_EQ(got[0], "2" + a.SerializeAsString());
    EXPECT_EQ(got[1], "2" + b.SerializeAsString());
    EXPECT_EQ(got[2], "3" + end.SerializeAsString());
    // The stream ends here: no fourth frame.
    EXPECT_EQ(reader.Next(absl::InfiniteFuture()).status().code(), absl::StatusCode::kUnavailable);
  }
}

TEST(StreamFrameTest, RejectsUnknownTypesAndOversizedFrames) {
  FrameReader unknown(-1);
  unknown.Feed(std::string("\x01\x00\x00\x00\x09x", 6));
  EXPECT_EQ(unknown.Next(absl::InfiniteFuture()).status().code(), absl::StatusCode::kDataLoss);

  FrameReader oversized(-1);
  const uint32_t size = kMaxFramePayload + 1;
  std::string header(5, '\0');
  for (int i = 0; i < 4; ++i) header[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  header[4] = static_cast<char>(FrameType::kBatch);
  oversized.Feed(header);
  absl::Status s = oversized.Next(absl::InfiniteFuture()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("above the limit"), std::string::npos) << s;
}

TEST(StreamFrameTest, ReadsFramesFromASocketAndTimesOutOnSilence) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Socket writer(fds[0]);
  Socket reading(fds[1]);
  std::string wire(kStreamMagic);
  v1::SubscribeRequest request;
  request.set_node_id("edge-1");
  request.set_from_sequence(42);
  AppendFrame(FrameType::kSubscribe, request, &wire);
  ASSERT_THAT(SendAll(writer.fd(), wire, absl::Now() + absl::Seconds(10)), IsOk());

  FrameReader reader(reading.fd());
  absl::StatusOr<std::string> magic = reader.ReadExactly(4, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(magic.ok()) << magic.status();
  EXPECT_EQ(*magic, kStreamMagic);
  absl::StatusOr<Frame> f = reader.Next(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->type, FrameType::kSubscribe);
  v1::SubscribeRequest parsed;
  ASSERT_TRUE(ParseFrame(*f, &parsed));
  EXPECT_EQ(parsed.from_sequence(), 42u);

  // Half a frame, then silence: the deadline passes; the rest completes it.
  std::string next;
  AppendFrame(FrameType::kBatch, Batch(42, 2, 5), &next);
  ASSERT_THAT(SendAll(writer.fd(), next.substr(0, 8), absl::Now() + absl::Seconds(10)), IsOk());
  EXPECT_EQ(reader.Next(absl::Now() + absl::Milliseconds(20)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_THAT(SendAll(writer.fd(), next.substr(8), absl::Now() + absl::Seconds(10)), IsOk());
  f = reader.Next(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(std::string(f->payload), Batch(42, 2, 5).SerializeAsString());
  writer.Close();
  EXPECT_EQ(reader.Next(absl::Now() + absl::Seconds(10)).status().code(),
            absl::StatusCode::kUnavailable);
}

// A follower's reader waits in a blocking recv() with the idle timeout on the socket:
// frames still arrive whole, silence still ends the wait, and shutdown() (Stop) wakes it.
TEST(StreamFrameTest, ABlockingReaderReadsFramesTimesOutAndWakesOnShutdown) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  Socket writer(fds[0]);
  Socket reading(fds[1]);
  FrameReader reader(reading.fd());
  const absl::Duration idle = absl::Milliseconds(50);
  EXPECT_EQ(reader.BlockForIdleTimeout(absl::ZeroDuration()).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_THAT(reader.BlockForIdleTimeout(idle), IsOk());
  EXPECT_EQ(fcntl(reading.fd(), F_GETFL) & O_NONBLOCK, 0);
  timeval timeout{};
  socklen_t len = sizeof(timeout);
  ASSERT_EQ(getsockopt(reading.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, &len), 0);
  EXPECT_GE(absl::DurationFromTimeval(timeout), idle);  // rounded up to the kernel's tick
  EXPECT_LT(absl::DurationFromTimeval(timeout), idle + absl::Milliseconds(20));

  // Sent after the reader is waiting, in two pieces.
  std::string wire;
  AppendFrame(FrameType::kBatch, Batch(7, 2, 100000), &wire);  // more than one recv
  std::thread sender([&] {
    absl::SleepFor(absl::Milliseconds(10));
    EXPECT_THAT(SendAll(writer.fd(), wire.substr(0, 3), absl::Now() + absl::Seconds(10)), IsOk());
    absl::SleepFor(absl::Milliseconds(10));
    EXPECT_THAT(SendAll(writer.fd(), wire.substr(3), absl::Now() + absl::Seconds(10)), IsOk());
  });
  absl::StatusOr<Frame> f = reader.NextWithIdleTimeout(idle);
  sender.join();
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(std::string(f->payload), Batch(7, 2, 100000).SerializeAsString());

  const absl::Time before = absl::Now();
  EXPECT_EQ(reader.NextWithIdleTimeout(idle).status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - before, idle - absl::Milliseconds(5));  // it waited, not polled empty

  // A long timeout: only the shutdown can end this wait early.
  ASSERT_THAT(reader.BlockForIdleTimeout(absl::Seconds(30)), IsOk());
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(10));
    shutdown(reading.fd(), SHUT_RDWR);
  });
  const absl::Time waiting = absl::Now();
  EXPECT_EQ(reader.NextWithIdleTimeout(absl::Seconds(30)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - waiting, absl::Seconds(20));
  stopper.join();
}

// A reader driven by an event loop: each ReadAvailable takes what the socket holds
// without waiting, NextBuffered hands out whole frames only, and once a frame's header
// is in, a read takes the rest of that frame whatever its size.
TEST(StreamFrameTest, AnEventLoopReaderTakesWhatIsThereAndHandsOutWholeFrames) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Socket writer(fds[0]);
  Socket reading(fds[1]);
  FrameReader reader(reading.fd());

  // Nothing there: no wait, no frame.
  const absl::Time before = absl::Now();
  ASSERT_THAT(reader.ReadAvailable(), IsOk());
  EXPECT_LT(absl::Now() - before, absl::Seconds(1));
  absl::StatusOr<std::optional<Frame>> f = reader.NextBuffered();
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->has_value());

  // Two small frames and the start of a large one in one read.
  std::string wire;
  AppendFrame(FrameType::kBatch, Batch(1, 1, 5), &wire);
  AppendFrame(FrameType::kBatch, Batch(2, 1, 5), &wire);
  std::string large;
  AppendFrame(FrameType::kBatch, Batch(3, 1, 150000), &large);  // fits the socket's buffer
  ASSERT_THAT(SendAll(writer.fd(), wire + large.substr(0, 10), absl::Now() + absl::Seconds(10)),
              IsOk());
  ASSERT_THAT(reader.ReadAvailable(), IsOk());
  for (uint64_t seq : {1, 2}) {
    f = reader.NextBuffered();
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE(f->has_value());
    EXPECT_EQ(std::string((*f)->payload), Batch(seq, 1, 5).SerializeAsString());
  }
  f = reader.NextBuffered();
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->has_value());  // only 10 bytes of the third

  // The rest, already waiting in the socket: the header being in, one read takes all
  // of the frame it still lacks, far more than the 64 KiB a read takes otherwise.
  ASSERT_THAT(SendAll(writer.fd(), large.substr(10), absl::Now() + absl::Seconds(30)), IsOk());
  ASSERT_THAT(reader.ReadAvailable(), IsOk());
  f = reader.NextBuffered();
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->has_value()) << "the rest of the frame took more than one read";
  EXPECT_EQ(std::string((*f)->payload), Batch(3, 1, 150000).SerializeAsString());

  // A malformed header is DATA_LOSS; the end of input is UNAVAILABLE.
  ASSERT_THAT(SendAll(writer.fd(), std::string("\x01\x00\x00\x00\x09x", 6),
                      absl::Now() + absl::Seconds(10)),
              IsOk());
  writer.Close();
  ASSERT_THAT(reader.ReadAvailable(), IsOk());
  EXPECT_EQ(reader.NextBuffered().status().code(), absl::StatusCode::kDataLoss);

  int other[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, other), 0);
  Socket closed(other[0]);
  Socket open(other[1]);
  closed.Close();
  FrameReader ended(open.fd());
  EXPECT_EQ(ended.ReadAvailable().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kv::replication
