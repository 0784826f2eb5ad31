#include "tools/kv_bench/redis_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "tools/kv_bench/redis_propagation_store.h"

namespace kv::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A scripted stand-in for redis-server on 127.0.0.1: it parses each command a client
// sends (RESP arrays of bulk strings), records it, and answers with the next queued
// action. Connections are served one at a time, so a client that reconnects is seen.
class FakeRedisServer {
 public:
  // What to do after the next command arrives.
  struct Action {
    enum Kind { kReply, kClose, kSilent } kind = kReply;
    // kReply: sent as separate writes, so the client sees partial replies.
    std::vector<std::string> chunks;
  };

  FakeRedisServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(sa);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~FakeRedisServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  void Reply(std::vector<std::string> chunks) {
    absl::MutexLock lock(&mu_);
    actions_.push_back({Action::kReply, std::move(chunks)});
  }
  void Then(Action::Kind kind) {
    absl::MutexLock lock(&mu_);
    actions_.push_back({kind, {}});
  }
  std::vector<std::vector<std::string>> commands() const {
    absl::MutexLock lock(&mu_);
    return commands_;
  }
  int connections() const { return connections_.load(); }

 private:
  // Returns true when `fd` is readable within 20 ms (so the loop can notice stop_).
  static bool Readable(int fd) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    return poll(&p, 1, 20) > 0;
  }

  // Parses one complete command from the front of `in` into `out`; false if incomplete.
  static bool ParseCommand(std::string* in, std::vector<std::string>* out) {
    size_t pos = 0;
    auto line = [&](std::string* text) {
      const size_t end = in->find("\r\n", pos);
      if (end == std::string::npos) return false;
      *text = in->substr(pos, end - pos);
      pos = end + 2;
      return true;
    };
    std::string header;
    int count = 0;
    if (!line(&header) || header[0] != '*' || !absl::SimpleAtoi(header.substr(1), &count)) {
      return false;
    }
    std::vector<std::string> args;
    for (int i = 0; i < count; ++i) {
      std::string len_text;
      size_t len = 0;
      if (!line(&len_text) || !absl::SimpleAtoi(len_text.substr(1), &len)) return false;
      if (in->size() < pos + len + 2) return false;
      args.push_back(in->substr(pos, len));
      pos += len + 2;
    }
    in->erase(0, pos);
    *out = std::move(args);
    return true;
  }

  void Serve() {
    while (!stop_) {
      if (!Readable(listen_fd_)) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      ServeConnection(fd);
      close(fd);
    }
  }

  void ServeConnection(int fd) {
    std::string in;
    bool silent = false;
    while (!stop_) {
      std::vector<std::string> command;
      if (!ParseCommand(&in, &command)) {
        if (!Readable(fd)) continue;
        char buf[4096];
        const ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
        continue;
      }
      Action action;
      {
        absl::MutexLock lock(&mu_);
        commands_.push_back(command);
        if (!actions_.empty()) {
          action = actions_.front();
          actions_.pop_front();
        } else {
          action.kind = Action::kSilent;
        }
      }
      if (silent || action.kind == Action::kSilent) {
        silent = true;
        continue;
      }
      if (action.kind == Action::kClose) return;
      for (const std::string& chunk : action.chunks) {
        send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        // Give the client a chance to read the partial reply on its own.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::deque<Action> actions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> commands_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<RedisClient> MustConnect(const FakeRedisServer& server,
                                         absl::Duration timeout = absl::Seconds(5)) {
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Connect(server.endpoint(), timeout);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(RedisClientTest, EncodesCommandsAsArraysOfBulkStrings) {
  EXPECT_EQ(EncodeRespCommand({"SET", "k", "a\r\nb"}),
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
  EXPECT_EQ(EncodeRespCommand({"GET", ""}), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST(RedisClientTest, ErrorRepliesMapToCodesForTheCaller) {
  EXPECT_EQ(StatusFromRedisError("LOADING Redis is loading").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromRedisError("MASTERDOWN Link with MASTER is down").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromRedisError("ERR wrong number of arguments").code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status readonly = StatusFromRedisError("READONLY You can't write against a replica");
  EXPECT_EQ(readonly.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(readonly.message()), HasSubstr("READONLY You can't write"));
}

TEST(RedisClientTest, SetSendsTheCommandAndExpectsOk) {
  FakeRedisServer server;
  server.Reply({"+OK\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Set("prop/1", "value").ok());
  EXPECT_THAT(server.commands(), ElementsAre(ElementsAre("SET", "prop/1", "value")));
}

TEST(RedisClientTest, GetReturnsTheValueOrNulloptForAMissingKey) {
  FakeRedisServer server;
  server.Reply({"$5\r\nhello\r\n"});
  server.Reply({"$-1\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::optional<std::string>> hit = client->Get("a");
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->value_or("<none>"), "hello");
  absl::StatusOr<std::optional<std::string>> miss = client->Get("b");
  ASSERT_TRUE(miss.ok()) << miss.status();
  EXPECT_FALSE(miss->has_value());
}

// HGET (an EdgeKV node's RESP port reads a namespace's key this way), and the
// propagation store built on it: visible once HGET returns a value.
TEST(RedisClientTest, HGetAndTheStoreThatPollsWithIt) {
  FakeRedisServer server;
  server.Reply({"$2\r\nv1\r\n"});
  server.Reply({"$-1\r\n"});
  server.Reply({"$1\r\nx\r\n"});
  server.Reply({"-ERR namespace not found\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::optional<std::string>> hit = client->HGet("ns", "a");
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->value_or("<none>"), "v1");
  RedisPropagationStore store(std::move(client), "ns");
  absl::StatusOr<bool> visible = store.IsVisible("b");
  ASSERT_TRUE(visible.ok()) << visible.status();
  EXPECT_FALSE(*visible);
  visible = store.IsVisible("c");
  ASSERT_TRUE(visible.ok()) << visible.status();
  EXPECT_TRUE(*visible);
  visible = store.IsVisible("d");
  EXPECT_EQ(visible.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(visible.status().message()), HasSubstr("namespace not found"));
  EXPECT_THAT(server.commands(),
              ElementsAre(ElementsAre("HGET", "ns", "a"), ElementsAre("HGET", "ns", "b"),
                          ElementsAre("HGET", "ns", "c"), ElementsAre("HGET", "ns", "d")));
}

// Waits until `fd` is readable (true) or 5 s pass (false).
bool AwaitReadable(int fd) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&p, 1, 5000) > 0;
}

// Takes the answer of the read in flight, waiting for the connection between attempts as
// the one-thread poller does; counts the attempts that found it incomplete.
absl::StatusOr<bool> TakeWhenComplete(PropagationStore& store, int* incomplete) {
  for (;;) {
    if (!AwaitReadable(store.poll_fd())) return absl::DeadlineExceededError("no answer in 5 s");
    absl::StatusOr<std::optional<bool>> got = store.TakeIsVisible();
    if (!got.ok()) return got.status();
    if (got->has_value()) return **got;
    ++*incomplete;
  }
}

TEST(RedisClientTest, TheStoreReadsInTwoHalvesWithoutBlocking) {
  FakeRedisServer server;
  // A value in three pieces, then a missing key, then an error.
  server.Reply({"$5\r\n", "he", "llo\r\n"});
  server.Reply({"$-1\r\n"});
  server.Reply({"-ERR unknown namespace\r\n"});
  RedisPropagationStore store(MustConnect(server), "ns1");
  ASSERT_GE(store.poll_fd(), 0);
  // Nothing sent yet: nothing to take, and taking does not block.
  absl::StatusOr<std::optional<bool>> early = store.TakeIsVisible();
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_FALSE(early->has_value());

  int incomplete = 0;
  ASSERT_TRUE(store.StartIsVisible("k1").ok());
  absl::StatusOr<bool> first = TakeWhenComplete(store, &incomplete);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  EXPECT_GE(incomplete, 1);  // the pieces arrive 2 ms apart

  ASSERT_TRUE(store.StartIsVisible("k2").ok());
  absl::StatusOr<bool> second = TakeWhenComplete(store, &incomplete);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);

  ASSERT_TRUE(store.StartIsVisible("k3").ok());
  absl::StatusOr<bool> third = TakeWhenComplete(store, &incomplete);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("unknown namespace"));

  EXPECT_THAT(server.commands(),
              ElementsAre(ElementsAre("HGET", "ns1", "k1"), ElementsAre("HGET", "ns1", "k2"),
                          ElementsAre("HGET", "ns1", "k3")));
  // The same store still reads blocking, on the same connection.
  server.Reply({"$1\r\nv\r\n"});
  absl::StatusOr<bool> blocking = store.IsVisible("k4");
  ASSERT_TRUE(blocking.ok()) << blocking.status();
  EXPECT_TRUE(*blocking);
  EXPECT_EQ(server.connections(), 1);
}

TEST(RedisClientTest, ASplitReadOnAClosedConnectionFailsAndTheNextOneReconnects) {
  FakeRedisServer server;
  server.Then(FakeRedisServer::Action::kClose);
  server.Reply({"$1\r\nv\r\n"});
  RedisPropagationStore store(MustConnect(server));
  int incomplete = 0;
  ASSERT_TRUE(store.StartIsVisible("k").ok());
  absl::StatusOr<bool> lost = TakeWhenComplete(store, &incomplete);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(lost.status().message()), HasSubstr("closed the connection"));
  EXPECT_EQ(store.poll_fd(), -1);
  ASSERT_TRUE(store.StartIsVisible("k").ok());  // reconnects
  absl::StatusOr<bool> again = TakeWhenComplete(store, &incomplete);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(*again);
  EXPECT_EQ(server.connections(), 2);
}

// With a namespace the store writes with KV.PUT (an EdgeKV origin's RESP port) and
// returns the sequence the origin answered; anything else is an error.
TEST(RedisClientTest, TheStoreWritesWithKvPutAndReturnsItsSequence) {
  FakeRedisServer server;
  server.Reply({":42\r\n"});
  server.Reply({"-READONLY this edge does not take writes\r\n"});
  server.Reply({"+OK\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  RedisPropagationStore store(std::move(client), "ns");
  absl::StatusOr<uint64_t> sequence = store.Write("k", "v");
  ASSERT_TRUE(sequence.ok()) << sequence.status();
  EXPECT_EQ(*sequence, 42u);
  absl::StatusOr<uint64_t> refused = store.Write("k", "v");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("READONLY"));
  absl::StatusOr<uint64_t> odd = store.Write("k", "v");
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(server.commands(), ElementsAre(ElementsAre("KV.PUT", "ns", "k", "v"),
                                             ElementsAre("KV.PUT", "ns", "k", "v"),
                                             ElementsAre("KV.PUT", "ns", "k", "v")));
}

TEST(RedisClientTest, ReadsBinaryValuesDeliveredInPieces) {
  FakeRedisServer server;
  // A value holding CRLF, split inside the length line, the body and the terminator.
  server.Reply({"$1", "1\r\nab\r\n", std::string("cd\0ef", 5), "gh\r", "\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::optional<std::string>> got = client->Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, std::string("ab\r\ncd\0efgh", 11));
}

TEST(RedisClientTest, PingAndInfo) {
  FakeRedisServer server;
  server.Reply({"+PONG\r\n"});
  const std::string info = "# Replication\r\nrole:master\r\nconnected_slaves:8\r\n";
  server.Reply({"$" + std::to_string(info.size()) + "\r\n" + info + "\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Ping().ok());
  absl::StatusOr<std::string> text = client->Info("replication");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, info);
  EXPECT_THAT(server.commands(),
              ElementsAre(ElementsAre("PING"), ElementsAre("INFO", "replication")));
}

TEST(RedisClientTest, ErrorReplyBecomesAStatus) {
  FakeRedisServer server;
  server.Reply({"-READONLY You can't write against a read only replica.\r\n"});
  server.Reply({":42\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  absl::Status s = client->Set("k", "v");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("READONLY"));
  // The connection is still usable after an error reply.
  absl::StatusOr<RespReply> r = client->Command({"DBSIZE"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, RespReply::Type::kInteger);
  EXPECT_EQ(r->integer, 42);
  EXPECT_EQ(server.connections(), 1);
}

TEST(RedisClientTest, ClosedConnectionIsUnavailableAndTheNextCommandReconnects) {
  FakeRedisServer server;
  server.Then(FakeRedisServer::Action::kClose);
  server.Reply({"+PONG\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(client->Ping().ok());
  EXPECT_EQ(server.connections(), 2);
}

TEST(RedisClientTest, SilentServerTimesOut) {
  FakeRedisServer server;
  server.Then(FakeRedisServer::Action::kSilent);
  std::unique_ptr<RedisClient> client = MustConnect(server, absl::Milliseconds(100));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Ping().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(RedisClientTest, MalformedReplyIsInternal) {
  FakeRedisServer server;
  server.Reply({"?what\r\n"});
  std::unique_ptr<RedisClient> client = MustConnect(server);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Ping().code(), absl::StatusCode::kInternal);
}

TEST(RedisClientTest, RefusedConnectionIsUnavailable) {
  // A port that was just free: bind, read the port, close.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  close(fd);
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Connect("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)), absl::Seconds(5));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
}

TEST(RedisClientTest, BadEndpointsAreInvalidArguments) {
  for (const char* endpoint : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", "redis.example:6379"}) {
    EXPECT_EQ(RedisClient::Connect(endpoint, absl::Seconds(1)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << endpoint;
  }
}

}  // namespace
}  // namespace kv::bench
