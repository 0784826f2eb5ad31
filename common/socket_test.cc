#include "common/socket.h"

#include <sys/socket.h>

#include <string>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"

namespace kv {
namespace {

using ::kv::testing::IsOk;

// A connected loopback pair: `client` dialled `server`'s listener, `server` accepted.
struct Pair {
  Socket client;
  Socket server;
};

Pair Connect() {
  Pair pair;
  int port = 0;
  absl::StatusOr<Socket> listener = ListenTcp("127.0.0.1", 0, &port);
  EXPECT_TRUE(listener.ok()) << listener.status();
  if (!listener.ok()) return pair;
  EXPECT_GT(port, 0);
  absl::StatusOr<Socket> client =
      ConnectTcp(absl::StrCat("127.0.0.1:", port), absl::Now() + absl::Seconds(10));
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return pair;
  pair.client = std::move(*client);
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       !pair.server.valid() && absl::Now() < deadline;) {
    absl::StatusOr<Socket> accepted = AcceptTcp(*listener);
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    if (!accepted.ok()) break;
    if (accepted->valid()) {
      pair.server = std::move(*accepted);
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  EXPECT_TRUE(pair.server.valid());
  return pair;
}

TEST(SplitHostPortTest, SplitsNamesV4AndBracketedV6) {
  std::string host;
  int port = 0;
  ASSERT_THAT(SplitHostPort("127.0.0.1:7400", &host, &port), IsOk());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 7400);
  ASSERT_THAT(SplitHostPort("[::1]:0", &host, &port), IsOk());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  EXPECT_EQ(SplitHostPort("localhost", &host, &port).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitHostPort("h:70000", &host, &port).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SplitHostPortTest, JoinHostPortIsItsInverse) {
  EXPECT_EQ(JoinHostPort("127.0.0.1", 7400), "127.0.0.1:7400");
  EXPECT_EQ(JoinHostPort("::1", 7400), "[::1]:7400");
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort(JoinHostPort("::1", 7450), &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 7450);
}

TEST(SocketTest, ConnectSendAndReceiveOverLoopback) {
  auto [client, server] = Connect();
  ASSERT_TRUE(server.valid());

  // More than a socket buffer, so SendAll has to wait for the reader.
  const std::string data(8 << 20, 'x');
  std::thread sender([&] {
    EXPECT_THAT(SendAll(client.fd(), data, absl::Now() + absl::Seconds(30)), IsOk());
  });
  std::string got;
  std::string buffer(64 * 1024, '\0');
  while (got.size() < data.size()) {
    absl::StatusOr<size_t> n =
        ReceiveSome(server.fd(), buffer.data(), buffer.size(), absl::Now() + absl::Seconds(30));
    ASSERT_TRUE(n.ok()) << n.status();
    got.append(buffer.data(), *n);
  }
  sender.join();
  EXPECT_EQ(got, data);

  // Nothing more: a short deadline passes; then the peer's close reads as UNAVAILABLE.
  EXPECT_EQ(ReceiveSome(server.fd(), buffer.data(), buffer.size(),
                        absl::Now() + absl::Milliseconds(20))
                .status()
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  client.Close();
  EXPECT_EQ(ReceiveSome(server.fd(), buffer.data(), buffer.size(), absl::Now() + absl::Seconds(30))
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
}

TEST(SocketTest, SendAllGivesUpWhenThePeerTakesNothing) {
  auto [client, server] = Connect();
  ASSERT_TRUE(server.valid());
  // Nobody reads: once both sockets' buffers are full, the deadline ends the send.
  const std::string data(64 << 20, 'x');
  EXPECT_EQ(SendAll(client.fd(), data, absl::Now() + absl::Milliseconds(500)).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(SocketTest, AnIdleTimeoutSparesASlowReaderThatKeepsReading) {
  auto [client, server] = Connect();
  ASSERT_TRUE(server.valid());
  // The reader takes 64 KiB every 10 ms: the whole transfer takes longer than the idle
  // timeout, but no pause comes near it.
  const std::string data(24 << 20, 'x');
  constexpr absl::Duration kIdle = absl::Milliseconds(1500);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::string buffer(64 * 1024, '\0');
    size_t total = 0;
    while (total < data.size()) {
      absl::StatusOr<size_t> n = ReceiveSome(server.fd(), buffer.data(), buffer.size(),
                                             absl::Now() + absl::Seconds(30));
      if (!n.ok()) break;
      total += *n;
      absl::SleepFor(absl::Milliseconds(10));
    }
    done = true;
  });
  const absl::Time start = absl::Now();
  EXPECT_THAT(SendAll(client.fd(), data, absl::InfiniteFuture(), kIdle), IsOk());
  EXPECT_GT(absl::Now() - start, kIdle);  // an overall deadline of kIdle would have failed
  reader.join();
  EXPECT_TRUE(done.load());
}

TEST(SocketTest, ConnectingToAClosedPortIsUnavailable) {
  int port = 0;
  { absl::StatusOr<Socket> listener = ListenTcp("127.0.0.1", 0, &port); }  // closed again
  absl::StatusOr<Socket> client =
      ConnectTcp(absl::StrCat("127.0.0.1:", port), absl::Now() + absl::Seconds(10));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find(absl::StrCat("127.0.0.1:", port)), std::string::npos);
}

}  // namespace
}  // namespace kv
