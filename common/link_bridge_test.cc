#include "common/link_bridge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace kv {
namespace {

using ::kv::link_bridge_internal::DelayedByteQueue;
using ::kv::testing::IsOk;
using ::kv::testing::StatusIs;

// Generous bound for anything that should happen "soon" on a loaded 2-core machine.
constexpr absl::Duration kPatience = absl::Seconds(20);

// ---------------------------------------------------------------------------------------
// DelayedByteQueue: the delivery logic, with explicit times.

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(DelayedByteQueueTest, HoldsBytesUntilTheirDeliveryTime) {
  DelayedByteQueue q(1 << 20);
  q.Push(kT0 + absl::Milliseconds(50), "abc");
  EXPECT_EQ(q.Due(kT0), "");
  EXPECT_EQ(q.Due(kT0 + absl::Milliseconds(49)), "");
  EXPECT_EQ(q.NextDue(), kT0 + absl::Milliseconds(50));
  EXPECT_EQ(q.Due(kT0 + absl::Milliseconds(50)), "abc");
  q.Consume(1);
  EXPECT_EQ(q.Due(kT0 + absl::Milliseconds(50)), "bc");
  EXPECT_EQ(q.queued_bytes(), 2u);
  q.Consume(2);
  EXPECT_EQ(q.queued_bytes(), 0u);
  EXPECT_EQ(q.NextDue(), absl::InfiniteFuture());
}

TEST(DelayedByteQueueTest, KeepsOrderWhenTheLatencyShrinks) {
  DelayedByteQueue q(1 << 20);
  q.Push(kT0 + absl::Milliseconds(100), "first");
  q.Push(kT0 + absl::Milliseconds(10), "second");  // latency lowered meanwhile
  EXPECT_EQ(q.Due(kT0 + absl::Milliseconds(50)), "");
  EXPECT_EQ(q.Due(kT0 + absl::Milliseconds(100)), "first");
  q.Consume(5);
  EXPECT_EQ(q.NextDue(), kT0 + absl::Milliseconds(100));
  EXPECT_EQ(q.Due(kT0 + absl::Milliseconds(100)), "second");
}

TEST(DelayedByteQueueTest, EofComesAfterEveryByte) {
  DelayedByteQueue q(1 << 20);
  q.Push(kT0 + absl::Milliseconds(10), "x");
  q.PushEof(kT0);  // read later but stamped earlier: still after the bytes
  EXPECT_TRUE(q.eof_pushed());
  EXPECT_FALSE(q.EofDue(kT0 + absl::Seconds(1)));  // "x" not consumed
  EXPECT_EQ(q.Due(kT0 + absl::Seconds(1)), "x");
  q.Consume(1);
  EXPECT_FALSE(q.EofDue(kT0 + absl::Milliseconds(9)));
  EXPECT_EQ(q.NextDue(), kT0 + absl::Milliseconds(10));
  EXPECT_TRUE(q.EofDue(kT0 + absl::Milliseconds(10)));
  q.ConsumeEof();
  EXPECT_TRUE(q.eof_delivered());
  EXPECT_FALSE(q.EofDue(kT0 + absl::Seconds(1)));
  EXPECT_EQ(q.NextDue(), absl::InfiniteFuture());
}

TEST(DelayedByteQueueTest, IsFullAtCapacityCountingBookkeeping) {
  DelayedByteQueue q(1000);
  EXPECT_TRUE(q.HasRoom());
  q.Push(kT0, std::string(900, 'a'));
  EXPECT_TRUE(q.HasRoom());  // 900 + 64 < 1000
  q.Push(kT0, "b");
  EXPECT_FALSE(q.HasRoom());  // 901 + 128 >= 1000
  q.Consume(900);
  EXPECT_TRUE(q.HasRoom());
  // Tiny chunks are charged their bookkeeping, so they cannot pile up without bound.
  DelayedByteQueue tiny(640);
  for (int i = 0; i < 10; ++i) tiny.Push(kT0, "z");
  EXPECT_FALSE(tiny.HasRoom());
}

// ---------------------------------------------------------------------------------------
// Socket helpers.

uint64_t Fnv1a(absl::string_view bytes, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

enum class ReadResult { kData, kEof, kReset, kTimeout };

// Waits up to `timeout` for `fd` to become readable and reads up to `max` bytes.
ReadResult ReadSome(int fd, absl::Duration timeout, std::string* out, size_t max = 65536) {
  pollfd p{fd, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (r == 0) return ReadResult::kTimeout;
  std::string buf(max, '\0');
  ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  if (n > 0) {
    out->append(buf.data(), static_cast<size_t>(n));
    return ReadResult::kData;
  }
  return n == 0 ? ReadResult::kEof : ReadResult::kReset;
}

// Reads until `n` bytes arrived, EOF, an error, or `timeout` passed; returns what came.
std::string ReadExactly(int fd, size_t n, absl::Duration timeout = kPatience) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < n && absl::Now() < deadline) {
    if (ReadSome(fd, deadline - absl::Now(), &out, n - out.size()) != ReadResult::kData) break;
  }
  return out;
}

// Reads until EOF (or an error or `timeout`); sets `*eof` to whether a clean EOF came.
std::string ReadToEof(int fd, bool* eof, absl::Duration timeout = kPatience) {
  std::string out;
  *eof = false;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    ReadResult r = ReadSome(fd, deadline - absl::Now(), &out);
    if (r == ReadResult::kData) continue;
    *eof = r == ReadResult::kEof;
    break;
  }
  return out;
}

// Returns whether `fd` sees EOF or a reset within `timeout` (data before it is skipped).
bool WaitForClose(int fd, absl::Duration timeout = kPatience) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string ignored;
  while (absl::Now() < deadline) {
    ReadResult r = ReadSome(fd, deadline - absl::Now(), &ignored);
    if (r == ReadResult::kEof || r == ReadResult::kReset) return true;
  }
  return false;
}

// A connected client socket, closed on destruction.
class Client {
 public:
  explicit Client(const std::string& address) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    const size_t colon = address.rfind(':');
    inet_pton(AF_INET, address.substr(0, colon).c_str(), &a.sin_addr);
    int port = 0;
    (void)absl::SimpleAtoi(address.substr(colon + 1), &port);
    a.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Client() { close(fd_); }
  int fd() const { return fd_; }
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_;
};

// A blocking TCP server on 127.0.0.1:0 running `handler(fd)` on a thread per connection
// (fine for a test peer; the bridge is what must not do this).
class TestServer {
 public:
  using Handler = std::function<void(int fd)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(listen(listen_fd_, 64), 0);
    EXPECT_EQ(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    address_ = absl::StrCat("127.0.0.1:", ntohs(a.sin_port));
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestServer() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    accept_thread_.join();
    close(listen_fd_);
    {
      absl::MutexLock lock(&mu_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);  // wakes handlers
    }
    for (std::thread& t : threads_) t.join();
    for (int fd : fds_) close(fd);
  }

  const std::string& address() const { return address_; }

 private:
  void AcceptLoop() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      {
        absl::MutexLock lock(&mu_);
        fds_.push_back(fd);
      }
      threads_.emplace_back([this, fd] { handler_(fd); });
    }
  }

  Handler handler_;
  int listen_fd_;
  std::string address_;
  std::thread accept_thread_;
  std::vector<std::thread> threads_;  // touched by the accept thread, then the destructor
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
};

// Echoes until EOF, then half-closes.
void Echo(int fd) {
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    if (!SendAll(fd, absl::string_view(buf, static_cast<size_t>(n)))) return;
  }
  shutdown(fd, SHUT_WR);
}

// Reads to EOF, then answers "<bytes>:<fnv1a>" and half-closes.
void Sink(int fd) {
  char buf[65536];
  uint64_t count = 0;
  uint64_t hash = Fnv1a("");
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) return;
    if (n == 0) break;
    count += static_cast<uint64_t>(n);
    hash = Fnv1a(absl::string_view(buf, static_cast<size_t>(n)), hash);
  }
  SendAll(fd, absl::StrCat(count, ":", hash));
  shutdown(fd, SHUT_WR);
}

std::string SinkAnswer(absl::string_view data) {
  return absl::StrCat(data.size(), ":", Fnv1a(data));
}

std::unique_ptr<LinkBridge> StartBridge(const std::string& target, LinkBridgeOptions options = {}) {
  absl::StatusOr<std::unique_ptr<LinkBridge>> bridge = LinkBridge::Start(target, options);
  EXPECT_THAT(bridge, IsOk());
  return bridge.ok() ? std::move(*bridge) : nullptr;
}

template <typename Pred>
bool WaitFor(Pred pred, absl::Duration timeout = kPatience) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));  // polling a condition, not a fixed wait
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// LinkBridge over raw TCP.

TEST(LinkBridgeTest, StartRejectsMalformedAndNonLoopbackTargets) {
  for (const char* target : {"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "10.0.0.1:80",
                             "example.com:80", "[2001:db8::1]:80", "127.0.0.1:x"}) {
    EXPECT_THAT(LinkBridge::Start(target), StatusIs(absl::StatusCode::kInvalidArgument)) << target;
  }
  EXPECT_THAT(LinkBridge::Start("localhost:1"), IsOk());
  EXPECT_THAT(LinkBridge::Start("[::1]:1"), IsOk());
  absl::StatusOr<std::unique_ptr<LinkBridge>> bridge = LinkBridge::Start("127.0.0.1:1");
  ASSERT_THAT(bridge, IsOk());
  EXPECT_THAT((*bridge)->address(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE((*bridge)->address(), "127.0.0.1:0");
  EXPECT_EQ((*bridge)->target_address(), "127.0.0.1:1");
}

TEST(LinkBridgeTest, EchoesBytesIntactInBothDirections) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  const std::string data = RandomBytes(1 << 20, 1);
  std::thread writer([&] {
    EXPECT_TRUE(SendAll(client.fd(), data));
    shutdown(client.fd(), SHUT_WR);
  });
  bool eof = false;
  const std::string echoed = ReadToEof(client.fd(), &eof);
  writer.join();
  EXPECT_TRUE(eof);
  EXPECT_EQ(echoed.size(), data.size());
  EXPECT_TRUE(echoed == data);
  EXPECT_EQ(bridge->stats().bytes_to_target, data.size());
  EXPECT_EQ(bridge->stats().bytes_to_client, data.size());
  EXPECT_EQ(bridge->bytes_forwarded(), 2 * data.size());
}

TEST(LinkBridgeTest, CarriesEightMiBToTheTargetWhileTheOtherDirectionIsIdle) {
  TestServer server(Sink);
  auto bridge = StartBridge(server.address());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  const std::string data = RandomBytes(8 << 20, 2);
  ASSERT_TRUE(SendAll(client.fd(), data));
  shutdown(client.fd(), SHUT_WR);
  bool eof = false;
  EXPECT_EQ(ReadToEof(client.fd(), &eof), SinkAnswer(data));
  EXPECT_TRUE(eof);
}

TEST(LinkBridgeTest, CarriesEightMiBToTheClientWhileTheOtherDirectionIsIdle) {
  const std::string data = RandomBytes(8 << 20, 3);
  TestServer server([&data](int fd) {
    SendAll(fd, data);
    shutdown(fd, SHUT_WR);
  });
  auto bridge = StartBridge(server.address());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  bool eof = false;
  const std::string got = ReadToEof(client.fd(), &eof);
  EXPECT_TRUE(eof);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST(LinkBridgeTest, CarriesBulkDataThroughASmallQueueWithLatency) {
  TestServer server(Sink);
  auto bridge = StartBridge(
      server.address(), {.one_way_latency = absl::Milliseconds(10), .max_queued_bytes = 64 << 10});
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  const std::string data = RandomBytes(2 << 20, 5);
  ASSERT_TRUE(SendAll(client.fd(), data));
  shutdown(client.fd(), SHUT_WR);
  bool eof = false;
  EXPECT_EQ(ReadToEof(client.fd(), &eof), SinkAnswer(data));
  EXPECT_TRUE(eof);
}

TEST(LinkBridgeTest, ServesManyConnectionsAtOnce) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address(), {.one_way_latency = absl::Milliseconds(1)});
  constexpr int kClients = 16;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::string> data;
  std::vector<std::thread> writers;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(bridge->address()));
    ASSERT_TRUE(clients.back()->connected());
    data.push_back(RandomBytes(64 << 10, 100 + i));
  }
  for (int i = 0; i < kClients; ++i) {
    writers.emplace_back([&, i] {
      EXPECT_TRUE(SendAll(clients[i]->fd(), data[i]));
      shutdown(clients[i]->fd(), SHUT_WR);
    });
  }
  for (int i = 0; i < kClients; ++i) {
    bool eof = false;
    EXPECT_TRUE(ReadToEof(clients[i]->fd(), &eof) == data[i]) << "client " << i;
    EXPECT_TRUE(eof);
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(bridge->stats().connections_accepted, static_cast<uint64_t>(kClients));
  EXPECT_TRUE(WaitFor([&] { return bridge->stats().open_connections == 0; }));
}

TEST(LinkBridgeTest, RefusesConnectionsBeyondTheLimit) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address(), {.max_connections = 1});
  Client first(bridge->address());
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(SendAll(first.fd(), "a"));
  ASSERT_EQ(ReadExactly(first.fd(), 1), "a");
  Client second(bridge->address());
  if (second.connected()) {
    EXPECT_TRUE(WaitForClose(second.fd()));
  }
  EXPECT_TRUE(WaitFor([&] { return bridge->stats().connections_refused == 1; }));
  ASSERT_TRUE(SendAll(first.fd(), "b"));  // the first one is unaffected
  EXPECT_EQ(ReadExactly(first.fd(), 1), "b");
}

TEST(LinkBridgeTest, ManySmallWritesArriveInOrder) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  int one = 1;
  setsockopt(client.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::string all;
  for (int i = 0; i < 5000; ++i) absl::StrAppend(&all, i, ",");
  std::thread writer([&] {
    absl::string_view rest = all;
    while (!rest.empty()) {  // 1..7-byte writes
      const size_t n = std::min<size_t>(rest.size(), 1 + rest.size() % 7);
      ASSERT_TRUE(SendAll(client.fd(), rest.substr(0, n)));
      rest.remove_prefix(n);
    }
  });
  const std::string echoed = ReadExactly(client.fd(), all.size());
  writer.join();
  EXPECT_EQ(echoed, all);
}

TEST(LinkBridgeTest, RoundTripTakesAtLeastTwiceTheOneWayLatency) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address(), {.one_way_latency = absl::Milliseconds(50)});
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    ASSERT_TRUE(SendAll(client.fd(), "ping"));
    EXPECT_EQ(ReadExactly(client.fd(), 4), "ping");
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  }
}

TEST(LinkBridgeTest, SetLatencyAppliesToLaterBytes) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address());
  EXPECT_EQ(bridge->latency(), absl::ZeroDuration());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(SendAll(client.fd(), "a"));
  EXPECT_EQ(ReadExactly(client.fd(), 1), "a");

  bridge->SetLatency(absl::Milliseconds(40));
  EXPECT_EQ(bridge->latency(), absl::Milliseconds(40));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(SendAll(client.fd(), "b"));
  EXPECT_EQ(ReadExactly(client.fd(), 1), "b");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(80));

  bridge->SetLatency(absl::ZeroDuration());
  ASSERT_TRUE(SendAll(client.fd(), "c"));
  EXPECT_EQ(ReadExactly(client.fd(), 1), "c");
}

TEST(LinkBridgeTest, PropagatesHalfCloseBothWaysAfterTheQueuedBytes) {
  TestServer server(Sink);
  auto bridge = StartBridge(server.address(), {.one_way_latency = absl::Milliseconds(20)});
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(SendAll(client.fd(), "hello"));
  shutdown(client.fd(), SHUT_WR);  // the sink answers only after seeing EOF
  bool eof = false;
  EXPECT_EQ(ReadToEof(client.fd(), &eof), SinkAnswer("hello"));
  EXPECT_TRUE(eof);
  EXPECT_TRUE(WaitFor([&] { return bridge->stats().open_connections == 0; }));
  EXPECT_EQ(bridge->stats().connections_reset, 0u);
}

TEST(LinkBridgeTest, ResetsTheClientWhenTheTargetRefuses) {
  std::string dead_address;
  {
    TestServer gone(Echo);  // learn a free port, then close it
    dead_address = gone.address();
  }
  auto bridge = StartBridge(dead_address);
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());         // the bridge accepts...
  EXPECT_TRUE(WaitForClose(client.fd()));  // ...then drops the connection
  EXPECT_TRUE(WaitFor([&] { return bridge->stats().connections_reset == 1; }));
}

TEST(LinkBridgeTest, CutResetsOpenConnectionsAndRefusesNewOnesUntilHealed) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address());
  Client before(bridge->address());
  ASSERT_TRUE(before.connected());
  ASSERT_TRUE(SendAll(before.fd(), "a"));
  ASSERT_EQ(ReadExactly(before.fd(), 1), "a");

  bridge->Cut();
  EXPECT_TRUE(bridge->is_cut());
  EXPECT_TRUE(WaitForClose(before.fd()));
  EXPECT_EQ(bridge->stats().open_connections, 0);
  EXPECT_EQ(bridge->stats().connections_reset, 1u);

  Client during(bridge->address());
  if (during.connected()) {  // accepted by the kernel, then closed by the bridge
    SendAll(during.fd(), "b");
    EXPECT_TRUE(WaitForClose(during.fd()));
  }
  EXPECT_TRUE(WaitFor([&] { return bridge->stats().connections_refused >= 1; }));
  const uint64_t to_target = bridge->stats().bytes_to_target;

  bridge->Heal();
  EXPECT_FALSE(bridge->is_cut());
  Client after(bridge->address());
  ASSERT_TRUE(after.connected());
  ASSERT_TRUE(SendAll(after.fd(), "c"));
  EXPECT_EQ(ReadExactly(after.fd(), 1), "c");
  EXPECT_EQ(bridge->stats().bytes_to_target, to_target + 1);
}

TEST(LinkBridgeTest, BlackholeHoldsBytesAndReleasesThem) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(SendAll(client.fd(), "a"));
  ASSERT_EQ(ReadExactly(client.fd(), 1), "a");

  bridge->Blackhole(true);
  EXPECT_TRUE(bridge->is_blackholed());
  ASSERT_TRUE(SendAll(client.fd(), "held"));
  ASSERT_TRUE(WaitFor([&] { return bridge->stats().loop_wakeups > 0; }));
  const uint64_t wakeups = bridge->stats().loop_wakeups;
  std::string got;
  // Asserting an absence needs some wait; a broken blackhole would answer within it.
  EXPECT_EQ(ReadSome(client.fd(), absl::Milliseconds(300), &got), ReadResult::kTimeout);
  // Holding bytes is not busy-waiting: a handful of wakeups (reading "held"), not a spin.
  EXPECT_LT(bridge->stats().loop_wakeups - wakeups, 10u);
  EXPECT_EQ(bridge->stats().bytes_to_target, 1u);
  EXPECT_EQ(bridge->stats().open_connections, 1);

  bridge->Blackhole(false);
  EXPECT_EQ(ReadExactly(client.fd(), 4), "held");
}

TEST(LinkBridgeTest, BlackholeBoundsQueuedBytesAndBackpressuresTheSender) {
  TestServer server(Sink);
  auto bridge = StartBridge(server.address(), {.max_queued_bytes = 256 << 10});
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  bridge->Blackhole(true);

  // Write until the sender is blocked for a while: the bridge stopped reading.
  const int flags = fcntl(client.fd(), F_GETFL);
  ASSERT_EQ(fcntl(client.fd(), F_SETFL, flags | O_NONBLOCK), 0);
  const std::string block = RandomBytes(64 << 10, 4);
  std::string sent;
  constexpr size_t kLimit = 64 << 20;  // far beyond the queue cap plus socket buffers
  while (sent.size() < kLimit) {
    ssize_t n = send(client.fd(), block.data(), block.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent.append(block.data(), static_cast<size_t>(n));
      continue;
    }
    ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
    pollfd p{client.fd(), POLLOUT, 0};
    if (poll(&p, 1, 300) == 0) break;
  }
  EXPECT_LT(sent.size(), kLimit);
  EXPECT_EQ(bridge->stats().bytes_to_target, 0u);

  bridge->Blackhole(false);
  ASSERT_EQ(fcntl(client.fd(), F_SETFL, flags), 0);
  shutdown(client.fd(), SHUT_WR);
  bool eof = false;
  EXPECT_EQ(ReadToEof(client.fd(), &eof), SinkAnswer(sent));
  EXPECT_TRUE(eof);
}

TEST(LinkBridgeTest, IdleConnectionsDoNotWakeTheLoop) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address(), {.one_way_latency = absl::Milliseconds(5)});
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(SendAll(client.fd(), "a"));
  ASSERT_EQ(ReadExactly(client.fd(), 1), "a");
  shutdown(client.fd(), SHUT_WR);  // half-closed: the echo server closes too, then EOF
  bool eof = false;
  ReadToEof(client.fd(), &eof);
  ASSERT_TRUE(eof);
  Client idle(bridge->address());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(WaitFor([&] { return bridge->stats().open_connections == 1; }));
  const uint64_t wakeups = bridge->stats().loop_wakeups;
  std::string got;
  EXPECT_EQ(ReadSome(idle.fd(), absl::Milliseconds(300), &got), ReadResult::kTimeout);
  EXPECT_LT(bridge->stats().loop_wakeups - wakeups, 5u);
}

TEST(LinkBridgeTest, DestructionResetsOpenConnections) {
  TestServer server(Echo);
  auto bridge = StartBridge(server.address());
  Client client(bridge->address());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(SendAll(client.fd(), "a"));
  ASSERT_EQ(ReadExactly(client.fd(), 1), "a");
  bridge.reset();
  EXPECT_TRUE(WaitForClose(client.fd()));
}

// ---------------------------------------------------------------------------------------
// gRPC through a bridge.

class GrpcThroughBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    // A server needs one service of its own; unknown methods answer UNIMPLEMENTED.
    builder.RegisterCallbackGenericService(&generic_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  std::string server_address() const { return absl::StrCat("127.0.0.1:", port_); }

  static std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }

  static grpc::Status Check(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
                            bool wait_for_ready) {
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    ctx.set_wait_for_ready(wait_for_ready);
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&ctx, request, &response);
  }

  int port_ = 0;
  grpc::CallbackGenericService generic_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(GrpcThroughBridgeTest, CallsWorkAndFailWhileCut) {
  auto bridge = StartBridge(server_address());
  auto channel = ChannelTo(bridge->address());
  grpc::Status ok = Check(channel, kPatience, /*wait_for_ready=*/true);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_GT(bridge->stats().bytes_to_target, 0u);

  bridge->Cut();
  grpc::Status cut = Check(channel, absl::Seconds(2), /*wait_for_ready=*/false);
  EXPECT_THAT(cut.error_code(),
              ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED));

  bridge->Heal();
  // The channel reconnects after its backoff; wait for_ready so the call rides it out.
  grpc::Status healed = Check(channel, kPatience, /*wait_for_ready=*/true);
  EXPECT_TRUE(healed.ok()) << healed.error_message();
}

TEST_F(GrpcThroughBridgeTest, CallsTimeOutWhileBlackholedAndWorkAfter) {
  auto bridge = StartBridge(server_address());
  auto channel = ChannelTo(bridge->address());
  ASSERT_TRUE(Check(channel, kPatience, true).ok());
  bridge->Blackhole(true);
  EXPECT_EQ(Check(channel, absl::Milliseconds(300), false).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  bridge->Blackhole(false);
  grpc::Status after = Check(channel, kPatience, true);
  EXPECT_TRUE(after.ok()) << after.error_message();
}

TEST_F(GrpcThroughBridgeTest, UnaryCallCostsAtLeastOneRoundTrip) {
  auto bridge = StartBridge(server_address(), {.one_way_latency = absl::Milliseconds(50)});
  auto channel = ChannelTo(bridge->address());
  ASSERT_TRUE(Check(channel, kPatience, true).ok());  // connect first
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Check(channel, kPatience, true).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

}  // namespace
}  // namespace kv
