// The TCP replication stream served to raw subscribers: the shared fan-out, and a
// subscriber that stops reading.

#include "replication/stream_server.h"

#include <sys/socket.h>

#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "replication/stream_frame.h"
#include "storage/testing/store_fixture.h"

namespace kv::replication {
namespace {

using ::kv::testing::IsOk;

const std::string kNs = "000000000000000000000000000000cc";
constexpr absl::Duration kPatience = absl::Seconds(60);

// A subscriber speaking the wire protocol by hand.
class RawSubscriber {
 public:
  // Connects to `port` with a receive buffer of `rcvbuf` bytes (0: the default) and
  // subscribes from `from`.
  RawSubscriber(int port, uint64_t from, int rcvbuf = 0) {
    absl::StatusOr<Socket> s =
        ConnectTcp(absl::StrCat("127.0.0.1:", port), absl::Now() + kPatience);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return;
    socket_ = std::move(*s);
    // Set before any data arrives, so the window the sender sees stays small.
    if (rcvbuf > 0) setsockopt(socket_.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    v1::SubscribeRequest request;
    request.set_node_id("raw");
    request.set_from_sequence(from);
    request.set_follow(true);
    std::string out(kStreamMagic);
    AppendFrame(FrameType::kSubscribe, request, &out);
    EXPECT_THAT(SendAll(socket_.fd(), out, absl::Now() + kPatience), IsOk());
    reader_ = std::make_unique<FrameReader>(socket_.fd());
  }

  // Reads batches until it has seen entry `last` (true) or the stream ends or stays
  // silent past the deadline (false). Checks that entries come in order, once each.
  bool ReadThrough(uint64_t last, absl::Time deadline) {
    while (next_ <= last) {
      absl::StatusOr<Frame> f = reader_->Next(deadline);
      if (!f.ok()) {
        end_ = f.status();
        return false;
      }
      if (f->type != FrameType::kBatch) {
        end_ = absl::InternalError("an end frame");
        return false;
      }
      v1::LogBatch batch;
      EXPECT_TRUE(ParseFrame(*f, &batch));
      for (const v1::LogEntry& e : batch.entries()) {
        EXPECT_EQ(e.sequence(), next_) << "entries out of order, repeated or missing";
        next_ = e.sequence() + 1;
      }
    }
    return true;
  }

  // Reads batches until an empty one (a heartbeat) arrives; returns it, or nullopt if
  // the stream ends or stays silent past the deadline.
  std::optional<v1::LogBatch> ReadHeartbeat(absl::Time deadline) {
    for (;;) {
      absl::StatusOr<Frame> f = reader_->Next(deadline);
      if (!f.ok() || f->type != FrameType::kBatch) return std::nullopt;
      v1::LogBatch batch;
      EXPECT_TRUE(ParseFrame(*f, &batch));
      if (batch.entries_size() == 0) return batch;
      next_ = batch.entries(batch.entries_size() - 1).sequence() + 1;
    }
  }

  uint64_t next() const { return next_; }
  const absl::Status& end() const { return end_; }

 private:
  Socket socket_;
  std::unique_ptr<FrameReader> reader_;
  uint64_t next_ = 1;
  absl::Status end_;
};

class StreamServerTest : public storage::testing::StoreFixture {
 protected:
  void StartServer(ReplicationServiceOptions options) {
    absl::StatusOr<std::unique_ptr<StreamServer>> started =
        StreamServer::Start(store_.get(), &metrics_, options, "127.0.0.1", 0);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }

  ReplicationMetrics metrics_;
  std::unique_ptr<StreamServer> server_;
};

TEST_F(StreamServerTest, CaughtUpStreamsShareTheFanoutAndEachGetsEveryEntryOnce) {
  ReplicationServiceOptions options;
  options.heartbeat = absl::Milliseconds(200);
  StartServer(options);
  MakeNamespace("t", kNs);
  std::vector<std::unique_ptr<RawSubscriber>> subscribers;
  for (int i = 0; i < 3; ++i) {
    subscribers.push_back(std::make_unique<RawSubscriber>(server_->port(), 1));
  }
  std::vector<std::thread> readers;
  std::atomic<uint64_t> last{0};
  std::atomic<bool> writing{true};
  std::vector<bool> through(subscribers.size(), false);
  for (size_t i = 0; i < subscribers.size(); ++i) {
    readers.emplace_back([&, i] {
      // Read along while the writes go on, then up to the last one.
      while (writing.load()) {
        const uint64_t upto = std::max<uint64_t>(last.load(), 1);
        if (!subscribers[i]->ReadThrough(upto, absl::Now() + kPatience)) return;
      }
      through[i] = subscribers[i]->ReadThrough(last.load(), absl::Now() + kPatience);
    });
  }
  for (int i = 0; i < 300; ++i) {
    ASSERT_THAT(Put(kNs, "k" + std::to_string(i), "v"), IsOk());
    last = store_->AppliedSequence();
    if (i % 50 == 0) absl::SleepFor(absl::Milliseconds(5));  // let the streams catch up
  }
  writing = false;
  for (std::thread& t : readers) t.join();
  for (size_t i = 0; i < subscribers.size(); ++i) {
    EXPECT_TRUE(through[i]) << "subscriber " << i << " stopped at " << subscribers[i]->next()
                            << ": " << subscribers[i]->end();
  }
  // The streams were caught up most of the time: the fan-out sent for them.
  EXPECT_GT(server_->fanout_batches(), 0);
}

TEST_F(StreamServerTest, TheFanoutSendsEachCommitBeforeItsWriterIsAnsweredAndHeartbeats) {
  ReplicationServiceOptions options;
  options.heartbeat = absl::Milliseconds(200);
  StartServer(options);
  MakeNamespace("t", kNs);
  RawSubscriber subscriber(server_->port(), 1);
  ASSERT_TRUE(subscriber.ReadThrough(store_->AppliedSequence(), absl::Now() + kPatience));
  // Caught up, the stream joins the fan-out.
  const absl::Time deadline = absl::Now() + kPatience;
  while (server_->fanout_members() != 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(server_->fanout_members(), 1);
  for (int i = 0; i < 20; ++i) {
    // Sent by the committing thread before the writer was answered, not by a thread
    // woken after the commit.
    auto [seq, sent_to] = PutAnswered<std::pair<uint64_t, uint64_t>>(
        kNs, "k" + std::to_string(i), "v", [&](const storage::CommitResult& r) {
          return std::make_pair(r.sequence, server_->fanout_next());
        });
    EXPECT_GT(sent_to, seq) << "write " << i;
  }
  ASSERT_TRUE(subscriber.ReadThrough(store_->AppliedSequence(), absl::Now() + kPatience))
      << subscriber.end();
  // Idle, the fan-out heartbeats its members with the sender's position.
  std::optional<v1::LogBatch> heartbeat = subscriber.ReadHeartbeat(absl::Now() + kPatience);
  ASSERT_TRUE(heartbeat.has_value()) << "no heartbeat";
  EXPECT_EQ(heartbeat->sender_applied_sequence(), store_->AppliedSequence());
  EXPECT_EQ(server_->fanout_members(), 1);
}

TEST_F(StreamServerTest, ASubscriberThatStopsReadingIsClosedWithoutHoldingUpTheOthers) {
  ReplicationServiceOptions options;
  options.heartbeat = absl::Milliseconds(200);
  options.send_timeout = absl::Milliseconds(500);
  StartServer(options);
  MakeNamespace("t", kNs);
  RawSubscriber active(server_->port(), 1);
  // A fixed receive buffer (no autotuning), still above loopback's 64 KiB segment so the
  // window does not stay shut once it reads again.
  RawSubscriber frozen(server_->port(), 1, /*rcvbuf=*/256 << 10);
  ASSERT_TRUE(active.ReadThrough(store_->AppliedSequence(), absl::Now() + kPatience));
  // Both streams are open before the writes begin (the server accepts on its own thread:
  // without this wait the loop below could see one stream and write nothing).
  for (int i = 0; i < 3000 && server_->open_streams() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->open_streams(), 2);
  // Write until the frozen subscriber's buffers are full and the server gives up on it,
  // reading along on the active one.
  const std::string value(16 << 10, 'v');
  const absl::Time deadline = absl::Now() + kPatience;
  int i = 0;
  while (server_->open_streams() > 1 && absl::Now() < deadline) {
    for (int j = 0; j < 64; ++j, ++i) {
      ASSERT_THAT(Put(kNs, "k" + std::to_string(i), value), IsOk());
    }
    ASSERT_TRUE(active.ReadThrough(store_->AppliedSequence(), absl::Now() + kPatience))
        << active.end();
  }
  EXPECT_EQ(server_->open_streams(), 1) << "the frozen subscriber was never closed";
  // What it had been sent is intact, in order, and then the connection ends.
  EXPECT_FALSE(frozen.ReadThrough(store_->AppliedSequence(), absl::Now() + kPatience));
  EXPECT_EQ(frozen.end().code(), absl::StatusCode::kUnavailable) << frozen.end();
  EXPECT_GT(frozen.next(), 1u);
  // The active one still follows.
  ASSERT_THAT(Put(kNs, "after", "x"), IsOk());
  EXPECT_TRUE(active.ReadThrough(store_->AppliedSequence(), absl::Now() + kPatience));
}

TEST_F(StreamServerTest, RefusesAForeignProtocolAndAnOtherLineage) {
  StartServer(ReplicationServiceOptions());
  {
    absl::StatusOr<Socket> s =
        ConnectTcp(absl::StrCat("127.0.0.1:", server_->port()), absl::Now() + kPatience);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_THAT(SendAll(s->fd(), "GET / HTTP/1.1\r\n\r\n", absl::Now() + kPatience), IsOk());
    FrameReader reader(s->fd());
    // Closed without a frame.
    EXPECT_EQ(reader.Next(absl::Now() + kPatience).status().code(),
              absl::StatusCode::kUnavailable);
  }
  absl::StatusOr<Socket> s =
      ConnectTcp(absl::StrCat("127.0.0.1:", server_->port()), absl::Now() + kPatience);
  ASSERT_TRUE(s.ok()) << s.status();
  v1::SubscribeRequest request;
  request.set_from_sequence(1);
  request.set_epoch(store_->Epoch() + 1);
  std::string out(kStreamMagic);
  AppendFrame(FrameType::kSubscribe, request, &out);
  ASSERT_THAT(SendAll(s->fd(), out, absl::Now() + kPatience), IsOk());
  FrameReader reader(s->fd());
  absl::StatusOr<Frame> f = reader.Next(absl::Now() + kPatience);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->type, FrameType::kEnd);
  v1::StreamEnd end;
  ASSERT_TRUE(ParseFrame(*f, &end));
  EXPECT_EQ(end.code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(end.message().find("epoch mismatch"), std::string::npos) << end.message();
}

}  // namespace
}  // namespace kv::replication
