// The RESP port of a node (node/resp_server.h), over loopback TCP: what it answers,
// in what order, with which errors, and how it bounds connections and slow clients.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/channel_factory.h"
#include "common/socket.h"
#include "common/testing/status_matchers.h"
#include "node/forwarder.h"
#include "node/resp_protocol.h"
#include "node/resp_server.h"
#include "tests/integration/node_fixture.h"
#include "tools/kv_bench/redis_client.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;
using bench::RedisClient;
using bench::RespReply;

constexpr absl::Duration kTimeout = absl::Seconds(20);

class RespPortTest : public NodeFixture {
 protected:
  RespPortTest() {
    configure_ = [](node::NodeOptions& o) {
      o.resp_address = "127.0.0.1:0";
      // Small chunks, so a modest value is stored in several of them.
      o.store.inline_value_limit = 1024;
      o.store.blob_chunk_bytes = 4096;
    };
    RestartNode();
    ns_ = NewNamespace();
    resp_ = Connect();
  }

  std::unique_ptr<RedisClient> Connect() {
    absl::StatusOr<std::unique_ptr<RedisClient>> c =
        RedisClient::Connect(node_->resp_address(), kTimeout);
    EXPECT_THAT(c, IsOk());
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Sends `bytes` on a new raw connection and returns everything the node sends back
  // until it closes the connection or `expected` bytes have come.
  std::string Exchange(const std::string& bytes, size_t expected) {
    absl::StatusOr<Socket> s = ConnectTcp(node_->resp_address(), absl::Now() + kTimeout);
    EXPECT_THAT(s, IsOk());
    if (!s.ok()) return "";
    EXPECT_THAT(SendAll(s->fd(), bytes, absl::Now() + kTimeout), IsOk());
    return ReceiveUntil(*s, expected);
  }

  static std::string ReceiveUntil(const Socket& s, size_t expected) {
    std::string got;
    char buffer[64 * 1024];
    const absl::Time deadline = absl::Now() + kTimeout;
    while (got.size() < expected) {
      absl::StatusOr<size_t> n = ReceiveSome(s.fd(), buffer, sizeof(buffer), deadline);
      if (!n.ok()) break;  // closed (or the deadline: the comparison shows it)
      got.append(buffer, *n);
    }
    return got;
  }

  // Returns whether the peer closed `s` (end of stream) within the test's bound.
  static bool ClosedByPeer(const Socket& s) {
    char buffer[64 * 1024];
    const absl::Time deadline = absl::Now() + kTimeout;
    for (;;) {
      absl::StatusOr<size_t> n = ReceiveSome(s.fd(), buffer, sizeof(buffer), deadline);
      if (!n.ok()) return n.status().code() == absl::StatusCode::kUnavailable;
    }
  }

  // A RESP server of its own over the node's store, with `options` (no metrics).
  absl::StatusOr<std::unique_ptr<node::RespServer>> StartServer(node::RespServerOptions options) {
    direct_context_.store = node_->store();
    direct_context_.clock = &clock_;
    return node::RespServer::Start(&direct_context_, nullptr, "127.0.0.1:0", options);
  }

  std::string ErrorOf(const std::vector<absl::string_view>& command) {
    absl::StatusOr<RespReply> r = resp_->Command(command);
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return "";
    EXPECT_EQ(r->type, RespReply::Type::kError) << r->text;
    return r->text;
  }

  // Sends a write and returns the sequence it answered (0 after a failed expectation).
  uint64_t Write(const std::vector<absl::string_view>& command) {
    absl::StatusOr<RespReply> r = resp_->Command(command);
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return 0;
    EXPECT_EQ(r->type, RespReply::Type::kInteger) << r->text;
    EXPECT_GT(r->integer, 0);
    return r->type == RespReply::Type::kInteger ? static_cast<uint64_t>(r->integer) : 0;
  }

  std::string ns_;
  std::unique_ptr<RedisClient> resp_;
  node::ServiceContext direct_context_;  // StartServer's
};

TEST_F(RespPortTest, ReadsWhatGetReadsInlineChunkedMissingAndExpired) {
  const std::string big = RandomBytes(20000, 7);  // five 4 KiB chunks
  ASSERT_THAT(client_->Put(ns_, "small", "hello"), IsOk());
  ASSERT_THAT(client_->Put(ns_, "big", big), IsOk());
  PutOptions expiring;
  expiring.expiration_ttl = absl::Seconds(60);
  ASSERT_THAT(client_->Put(ns_, "session", "token", expiring), IsOk());

  EXPECT_THAT(resp_->HGet(ns_, "small"), IsOkAndHolds(Optional(std::string("hello"))));
  EXPECT_THAT(resp_->HGet(ns_, "big"), IsOkAndHolds(Optional(big)));
  EXPECT_THAT(resp_->HGet(ns_, "session"), IsOkAndHolds(Optional(std::string("token"))));
  EXPECT_THAT(resp_->HGet(ns_, "missing"), IsOkAndHolds(std::nullopt));

  absl::StatusOr<RespReply> r = resp_->Command({"hmget", ns_, "small", "missing", "big"});
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->type, RespReply::Type::kArray);
  ASSERT_EQ(r->elements.size(), 3u);
  EXPECT_EQ(r->elements[0].text, "hello");
  EXPECT_EQ(r->elements[1].type, RespReply::Type::kNull);
  EXPECT_EQ(r->elements[2].text, big);
  r = resp_->Command({"HEXISTS", ns_, "small"});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->integer, 1);
  r = resp_->Command({"HEXISTS", ns_, "big"});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->integer, 1);
  r = resp_->Command({"HEXISTS", ns_, "missing"});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->integer, 0);

  clock_.Advance(absl::Seconds(61));
  EXPECT_THAT(resp_->HGet(ns_, "session"), IsOkAndHolds(std::nullopt));
  ASSERT_THAT(client_->Delete(ns_, "small"), IsOk());
  EXPECT_THAT(resp_->HGet(ns_, "small"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(resp_->Ping(), IsOk());
}

TEST_F(RespPortTest, ErrorsCarryTheApisTextsAndLimits) {
  // The same message the gRPC API gives for each bad read.
  auto grpc_error = [&](const std::string& ns, const std::string& key) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(ns, key);
    EXPECT_FALSE(got.ok());
    return absl::StrCat("ERR ", got.status().message());
  };
  const std::string unknown_ns(32, 'a');
  EXPECT_EQ(ErrorOf({"HGET", "nope", "k"}), grpc_error("nope", "k"));
  EXPECT_EQ(ErrorOf({"HGET", unknown_ns, "k"}), "ERR namespace not found");
  EXPECT_EQ(ErrorOf({"HGET", ns_, ""}), grpc_error(ns_, ""));
  const std::string long_key(513, 'k');
  EXPECT_EQ(ErrorOf({"HGET", ns_, long_key}), grpc_error(ns_, long_key));

  std::vector<std::string> keys(101, "k");
  std::vector<absl::string_view> hmget = {"HMGET", ns_};
  hmget.insert(hmget.end(), keys.begin(), keys.end());
  EXPECT_EQ(ErrorOf(hmget), "ERR You can request a maximum of 100 keys");
  hmget.pop_back();
  absl::StatusOr<RespReply> hundred = resp_->Command(hmget);
  ASSERT_THAT(hundred, IsOk());
  EXPECT_EQ(hundred->elements.size(), 100u);

  EXPECT_EQ(ErrorOf({"HGET", ns_}), "ERR wrong number of arguments for 'hget' command");
  EXPECT_EQ(ErrorOf({"SET", "k", "v"}),
            "READONLY SET is not served: write with KV.PUT and KV.DELETE on the origin's RESP "
            "port, or through the gRPC API");
  EXPECT_THAT(ErrorOf({"FLUSHALL"}), HasSubstr("READONLY"));
  EXPECT_EQ(ErrorOf({"GET", "k"}),
            "ERR unknown command 'GET': this port serves HGET, HMGET, HEXISTS, KV.PUT, "
            "KV.DELETE, PING and QUIT");
  // Nothing was written or lost by any of that.
  EXPECT_THAT(client_->Get(ns_, "k"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(resp_->Ping(), IsOk());

  const std::string metrics = MetricsText();
  EXPECT_THAT(metrics, HasSubstr("kv_resp_commands_total{command=\"hget\",result=\"error\"} 5"));
  EXPECT_THAT(metrics, HasSubstr("kv_resp_commands_total{command=\"hmget\",result=\"ok\"} 1"));
}

TEST_F(RespPortTest, AnswersPipelinedCommandsInOrder) {
  ASSERT_THAT(client_->Put(ns_, "a", "1"), IsOk());
  ASSERT_THAT(client_->Put(ns_, "b", RandomBytes(20000, 3)), IsOk());
  std::string commands, want;
  for (int i = 0; i < 300; ++i) {
    const std::string key = i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "missing";
    absl::StrAppend(&commands, "*3\r\n$4\r\nHGET\r\n$32\r\n", ns_, "\r\n$", key.size(), "\r\n",
                    key, "\r\n");
    if (key == "a") node::AppendBulkString("1", &want);
    if (key == "b") node::AppendBulkString(RandomBytes(20000, 3), &want);
    if (key == "missing") node::AppendNull(&want);
  }
  commands += "PING\r\n";  // inline, after 300 array commands in the same stream
  node::AppendSimpleString("PONG", &want);
  EXPECT_EQ(Exchange(commands, want.size()), want);
}

TEST_F(RespPortTest, QuitAndProtocolErrorsCloseTheConnectionAfterTheReply) {
  EXPECT_EQ(Exchange("QUIT\r\nPING\r\n", SIZE_MAX), "+OK\r\n");
  EXPECT_EQ(Exchange("PING\r\n*1\r\n$x\r\nPING\r\n", SIZE_MAX),
            "+PONG\r\n-ERR Protocol error: invalid bulk length (at most 65536 bytes per "
            "argument)\r\n");
  // A command that does not end within 1 MiB is refused, not buffered. (Exactly one byte
  // more: the node has read all of it when it answers, so it closes with a FIN that does
  // not overtake the reply.)
  std::string endless = "*1024\r\n";
  while (endless.size() <= node::kRespMaxCommandBytes) {
    absl::StrAppend(&endless, "$60000\r\n", std::string(60000, 'x'), "\r\n");
  }
  endless.resize(node::kRespMaxCommandBytes + 1);
  EXPECT_EQ(Exchange(endless, SIZE_MAX),
            "-ERR Protocol error: command longer than 1048576 bytes\r\n");
  EXPECT_THAT(MetricsText(), HasSubstr("kv_resp_connections_dropped_total 2"));
}

// With a bound of one byte every reply holds the next command back until it is sent: a
// pipeline of 200 commands is still answered whole (nothing waits for input that is
// already buffered).
TEST_F(RespPortTest, RunsHeldBackCommandsOnceTheirRepliesAreSent) {
  node::RespServerOptions options;
  options.max_pending_reply_bytes = 1;
  absl::StatusOr<std::unique_ptr<node::RespServer>> server =
      StartServer(options);
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<Socket> s = ConnectTcp((*server)->address(), absl::Now() + kTimeout);
  ASSERT_THAT(s, IsOk());
  std::string commands, want;
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&commands, "PING ", i, "\r\n");
    node::AppendBulkString(absl::StrCat(i), &want);
  }
  ASSERT_THAT(SendAll(s->fd(), commands, absl::Now() + kTimeout), IsOk());
  EXPECT_EQ(ReceiveUntil(*s, want.size()), want);
}

// HMGET refuses a response over 25 MiB as BulkGet does (the same text, values and keys
// counted), before reading any chunk.
TEST_F(RespPortTest, HmgetRefusesWhatBulkGetRefuses) {
  const std::string half(13 << 20, 'v');  // two of them pass 25 MiB
  ASSERT_THAT(client_->Put(ns_, "a", half), IsOk());
  ASSERT_THAT(client_->Put(ns_, "b", half), IsOk());
  absl::StatusOr<BulkGetResult> bulk = client_->BulkGet(ns_, {"a", "b"});
  ASSERT_FALSE(bulk.ok());
  EXPECT_EQ(ErrorOf({"HMGET", ns_, "a", "b"}), absl::StrCat("ERR ", bulk.status().message()));
  absl::StatusOr<RespReply> one = resp_->Command({"HMGET", ns_, "a", "missing"});
  ASSERT_THAT(one, IsOk());
  ASSERT_EQ(one->elements.size(), 2u);
  EXPECT_EQ(one->elements[0].text, half);
}

// A client that shuts its sending side down still gets the replies to all it sent.
TEST_F(RespPortTest, AnswersEverythingSentBeforeTheClientHalfCloses) {
  ASSERT_THAT(client_->Put(ns_, "v", RandomBytes(300000, 9)), IsOk());
  absl::StatusOr<Socket> s = ConnectTcp(node_->resp_address(), absl::Now() + kTimeout);
  ASSERT_THAT(s, IsOk());
  std::string commands, want;
  for (int i = 0; i < 20; ++i) {  // 6 MB of replies: more than the 1 MiB bound
    absl::StrAppend(&commands, "HGET ", ns_, " v\r\n");
    node::AppendBulkString(RandomBytes(300000, 9), &want);
  }
  ASSERT_THAT(SendAll(s->fd(), commands, absl::Now() + kTimeout), IsOk());
  ASSERT_EQ(shutdown(s->fd(), SHUT_WR), 0);
  EXPECT_EQ(ReceiveUntil(*s, SIZE_MAX), want);  // everything, then the close
}

// Past the server-wide bound no connection runs commands; each resumes, without more
// input, once replies have drained.
TEST_F(RespPortTest, ConnectionsHeldByTheServerWideBoundResume) {
  const std::string value = RandomBytes(100000, 4);
  ASSERT_THAT(client_->Put(ns_, "v", value), IsOk());
  node::RespServerOptions options;
  options.max_pending_reply_bytes = 64 * 1024;
  options.max_total_pending_reply_bytes = 256 * 1024;
  absl::StatusOr<std::unique_ptr<node::RespServer>> server =
      StartServer(options);
  ASSERT_THAT(server, IsOk());
  std::string commands, want;
  for (int i = 0; i < 300; ++i) {  // 30 MB: more than loopback's socket buffers hold
    absl::StrAppend(&commands, "HGET ", ns_, " v\r\n");
    node::AppendBulkString(value, &want);
  }
  std::vector<Socket> clients;
  for (int i = 0; i < 3; ++i) {  // 90 MB asked for, none read yet
    absl::StatusOr<Socket> s = ConnectTcp((*server)->address(), absl::Now() + kTimeout);
    ASSERT_THAT(s, IsOk());
    ASSERT_THAT(SendAll(s->fd(), commands, absl::Now() + kTimeout), IsOk());
    clients.push_back(std::move(*s));
  }
  for (const Socket& s : clients) EXPECT_EQ(ReceiveUntil(s, want.size()), want);
}

// The bounds, on a server with small ones over the same store.
TEST_F(RespPortTest, RefusesConnectionsOverTheLimitAndDropsClientsThatStopReading) {
  ASSERT_THAT(client_->Put(ns_, "big", RandomBytes(1 << 20, 5)), IsOk());
  node::RespServerOptions options;
  options.max_connections = 2;
  options.max_pending_reply_bytes = 64 * 1024;
  options.idle_send_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<node::RespServer>> server =
      StartServer(options);
  ASSERT_THAT(server, IsOk());
  const std::string address = (*server)->address();

  std::vector<Socket> held;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Socket> s = ConnectTcp(address, absl::Now() + kTimeout);
    ASSERT_THAT(s, IsOk());
    ASSERT_THAT(SendAll(s->fd(), "PING\r\n", absl::Now() + kTimeout), IsOk());
    EXPECT_EQ(ReceiveUntil(*s, 7), "+PONG\r\n");
    held.push_back(std::move(*s));
  }
  absl::StatusOr<Socket> third = ConnectTcp(address, absl::Now() + kTimeout);
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(ReceiveUntil(*third, SIZE_MAX), "-ERR max number of clients reached\r\n");
  EXPECT_EQ((*server)->open_connections(), 2);

  // One client asks for the 1 MiB value many times and reads nothing: the server stops
  // reading its commands once 64 KiB of replies wait, then drops it after 300 ms.
  const std::string command = absl::StrCat("HGET ", ns_, " big\r\n");
  std::string commands;
  for (int i = 0; i < 64; ++i) commands += command;
  (void)SendAll(held[0].fd(), commands, absl::Now() + absl::Seconds(2));
  const absl::Time deadline = absl::Now() + kTimeout;
  while ((*server)->open_connections() > 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ((*server)->open_connections(), 1);
  // The other client is served as before, and a new one fits again.
  ASSERT_THAT(SendAll(held[1].fd(), "PING\r\n", absl::Now() + kTimeout), IsOk());
  EXPECT_EQ(ReceiveUntil(held[1], 7), "+PONG\r\n");
  absl::StatusOr<Socket> again = ConnectTcp(address, absl::Now() + kTimeout);
  ASSERT_THAT(again, IsOk());
  ASSERT_THAT(SendAll(again->fd(), "PING\r\n", absl::Now() + kTimeout), IsOk());
  EXPECT_EQ(ReceiveUntil(*again, 7), "+PONG\r\n");
  (*server)->Stop();
  EXPECT_TRUE(ClosedByPeer(held[1]));
}

TEST_F(RespPortTest, WritesCommitDurablyAndAnswerTheirSequence) {
  const uint64_t before = node_->store()->AppliedSequence();
  const uint64_t put = Write({"KV.PUT", ns_, "small", "hello"});
  EXPECT_GT(put, before);
  // Answered once committed: the store has applied it, and every reader sees it.
  EXPECT_GE(node_->store()->AppliedSequence(), put);
  EXPECT_THAT(client_->Get(ns_, "small"), IsOkAndHolds(Optional(std::string("hello"))));
  EXPECT_THAT(resp_->HGet(ns_, "small"), IsOkAndHolds(Optional(std::string("hello"))));

  // Over the inline limit (1 KiB here): stored in chunks, as a gRPC Put does.
  const std::string big = RandomBytes(20000, 11);
  const uint64_t put_big = Write({"kv.put", ns_, "big", big});
  EXPECT_GT(put_big, put);
  EXPECT_THAT(client_->Get(ns_, "big"), IsOkAndHolds(Optional(big)));

  // Options, in any case and order: they mean what Put's fields mean.
  const int64_t expiration = absl::ToUnixSeconds(clock_.Now()) + 3600;
  Write({"KV.PUT", ns_, "session", "token", "metadata", R"({"user":7})", "EXPIRATION",
         absl::StrCat(expiration)});
  absl::StatusOr<std::optional<ValueWithMetadata>> got = client_->GetWithMetadata(ns_, "session");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, "token");
  EXPECT_EQ((*got)->metadata, R"({"user":7})");
  EXPECT_EQ((*got)->expiration, absl::FromUnixSeconds(expiration));
  Write({"KV.PUT", ns_, "ttl", "v", "EXPIRATION_TTL", "60"});
  got = client_->GetWithMetadata(ns_, "ttl");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->expiration, absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()) + 60));

  const uint64_t del = Write({"KV.DELETE", ns_, "small"});
  EXPECT_GT(del, put_big);
  EXPECT_THAT(client_->Get(ns_, "small"), IsOkAndHolds(std::nullopt));
  Write({"KV.DELETE", ns_, "never-written"});  // as Workers KV: deleting nothing succeeds

  const std::string metrics = MetricsText();
  EXPECT_THAT(metrics, HasSubstr("kv_resp_commands_total{command=\"kv.put\",result=\"ok\"} 4"));
  EXPECT_THAT(metrics,
              HasSubstr("kv_resp_commands_total{command=\"kv.delete\",result=\"ok\"} 2"));
}

TEST_F(RespPortTest, WriteErrorsCarryThePutTextsAndStoreNothing) {
  // The message kv.v1.KV/Put gives for the same bad put.
  auto put_error = [&](const std::string& ns, const std::string& key, const std::string& value,
                       const PutOptions& options = {}) {
    absl::Status s = client_->Put(ns, key, value, options);
    EXPECT_FALSE(s.ok());
    return absl::StrCat("ERR ", s.message());
  };
  const std::string unknown_ns(32, 'a');
  const std::string long_key(513, 'k');
  EXPECT_EQ(ErrorOf({"KV.PUT", "nope", "k", "v"}), put_error("nope", "k", "v"));
  EXPECT_EQ(ErrorOf({"KV.PUT", unknown_ns, "k", "v"}), "ERR namespace not found");
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, long_key, "v"}), put_error(ns_, long_key, "v"));
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "", "v"}), put_error(ns_, "", "v"));
  EXPECT_EQ(ErrorOf({"KV.DELETE", ns_, long_key}), put_error(ns_, long_key, "v"));
  PutOptions short_ttl;
  short_ttl.expiration_ttl = absl::Seconds(30);
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k", "v", "EXPIRATION_TTL", "30"}),
            put_error(ns_, "k", "v", short_ttl));
  PutOptions big_metadata;
  big_metadata.metadata = absl::StrCat("\"", std::string(1100, 'm'), "\"");
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k", "v", "METADATA", *big_metadata.metadata}),
            put_error(ns_, "k", "v", big_metadata));
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k", "v", "EXPIRATION_TTL", "soon"}),
            "ERR EXPIRATION_TTL must be an integer number of seconds, not 'soon'");
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k", "v", "TTL", "60"}),
            "ERR KV.PUT has no option 'TTL' (it takes EXPIRATION, EXPIRATION_TTL and METADATA)");
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k", "v", "METADATA", "1", "metadata", "2"}),
            "ERR KV.PUT option METADATA given twice");
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k"}), "ERR wrong number of arguments for 'kv.put' command");
  EXPECT_EQ(ErrorOf({"KV.PUT", ns_, "k", "v", "EXPIRATION"}),
            "ERR wrong number of arguments for 'kv.put' command");
  EXPECT_EQ(ErrorOf({"KV.DELETE", ns_}), "ERR wrong number of arguments for 'kv.delete' command");
  // A value over the port's argument limit is a protocol error, named as such.
  EXPECT_THAT(Exchange(absl::StrCat("*4\r\n$6\r\nKV.PUT\r\n$32\r\n", ns_,
                                    "\r\n$1\r\nk\r\n$65537\r\n"),
                       SIZE_MAX),
              HasSubstr("at most 65536 bytes per argument"));

  // Nothing was stored, and the connection still serves.
  EXPECT_THAT(client_->Get(ns_, "k"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(resp_->Ping(), IsOk());
  EXPECT_THAT(MetricsText(),
              HasSubstr("kv_resp_commands_total{command=\"kv.put\",result=\"error\"} 11"));
}

TEST_F(RespPortTest, PipelinedWritesAndReadsAnswerInOrderAndSeeEarlierWrites) {
  // One stream: each command sees the writes before it, and replies keep their order
  // though writes are answered from the committer thread.
  const std::string big = RandomBytes(5000, 5);  // chunked here
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 50; ++i) {
    const std::string value = i % 10 == 9 ? big : absl::StrCat("v", i);
    commands.push_back({"KV.PUT", ns_, "k", value});
    commands.push_back({"HGET", ns_, "k"});
    if (i % 7 == 6) {
      commands.push_back({"KV.DELETE", ns_, "k"});
      commands.push_back({"HEXISTS", ns_, "k"});
    }
  }
  commands.push_back({"PING"});
  std::string bytes;
  for (const auto& c : commands) {
    absl::StrAppend(&bytes, "*", c.size(), "\r\n");
    for (const std::string& a : c) absl::StrAppend(&bytes, "$", a.size(), "\r\n", a, "\r\n");
  }
  absl::StatusOr<Socket> s = ConnectTcp(node_->resp_address(), absl::Now() + kTimeout);
  ASSERT_THAT(s, IsOk());
  ASSERT_THAT(SendAll(s->fd(), bytes, absl::Now() + kTimeout), IsOk());
  // Read every reply; the writes' sequences must rise and the reads must match.
  std::string got;
  size_t pos = 0;
  uint64_t last_sequence = 0;
  std::string last_value;
  char buffer[64 * 1024];
  const absl::Time deadline = absl::Now() + kTimeout;
  // Ensures `n` unread bytes are buffered.
  auto need = [&](size_t n) {
    while (got.size() < pos + n) {
      absl::StatusOr<size_t> r = ReceiveSome(s->fd(), buffer, sizeof(buffer), deadline);
      if (!r.ok()) return false;
      got.append(buffer, *r);
    }
    return true;
  };
  auto next_line = [&]() -> std::string {
    for (;;) {
      const size_t eol = got.find("\r\n", pos);
      if (eol != std::string::npos) {
        std::string line = got.substr(pos, eol - pos);
        pos = eol + 2;
        return line;
      }
      if (!need(got.size() - pos + 1)) return "<closed>";
    }
  };
  for (const auto& c : commands) {
    const std::string line = next_line();
    if (c[0] == "KV.PUT" || c[0] == "KV.DELETE") {
      ASSERT_EQ(line[0], ':') << line;
      uint64_t sequence = 0;
      ASSERT_TRUE(absl::SimpleAtoi(line.substr(1), &sequence)) << line;
      EXPECT_GT(sequence, last_sequence);
      last_sequence = sequence;
      last_value = c[0] == "KV.PUT" ? c[3] : "";
    } else if (c[0] == "HGET") {
      ASSERT_EQ(line, absl::StrCat("$", last_value.size()));
      ASSERT_TRUE(need(last_value.size() + 2));
      const std::string value = got.substr(pos, last_value.size());
      pos += last_value.size() + 2;
      EXPECT_EQ(value, last_value);
    } else if (c[0] == "HEXISTS") {
      EXPECT_EQ(line, ":0");
    } else {
      EXPECT_EQ(line, "+PONG");
    }
  }
}

TEST_F(RespPortTest, AnEdgeRefusesWritesAndStoresNothing) {
  // A server whose context has a forwarder is an edge's.
  std::unique_ptr<ChannelFactory> channels = MakeTcpChannelFactory();
  node::Forwarder forwarder(channels.get(), PeerAddress{"origin", "", "127.0.0.1:1"},
                            node_->store(), absl::Seconds(1), nullptr);
  direct_context_.forwarder = &forwarder;
  absl::StatusOr<std::unique_ptr<node::RespServer>> edge = StartServer({});
  ASSERT_THAT(edge, IsOk());
  absl::StatusOr<std::unique_ptr<RedisClient>> c =
      RedisClient::Connect((*edge)->address(), kTimeout);
  ASSERT_THAT(c, IsOk());
  for (const std::vector<absl::string_view>& command :
       std::vector<std::vector<absl::string_view>>{{"KV.PUT", ns_, "k", "v"},
                                                   {"KV.DELETE", ns_, "k"}}) {
    absl::StatusOr<RespReply> r = (*c)->Command(command);
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->type, RespReply::Type::kError);
    EXPECT_THAT(r->text, HasSubstr(absl::StrCat("READONLY this edge does not take writes on its "
                                                "RESP port: send ",
                                                command[0], " to the origin's")));
  }
  EXPECT_THAT(client_->Get(ns_, "k"), IsOkAndHolds(std::nullopt));
  (*edge)->Stop();
}

// The port's loop serves a watched socket (an edge's replication stream) between its
// connections' commands, on its own thread, until the handler says stop or the server
// stops; a watch handed over after Stop() ends at once.
TEST_F(RespPortTest, ServesAWatchedSocketOnItsLoopUntilTheHandlerOrStopEndsIt) {
  auto socket_pair = [] {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    return std::make_pair(Socket(fds[0]), Socket(fds[1]));
  };
  // Everything the handlers touch outlives the server (declared after it, it stops first).
  auto [writer, watched] = socket_pair();
  auto [writer2, watched2] = socket_pair();
  std::string received;  // the loop's thread only, until `ended`
  std::atomic<bool> on_test_thread{false};
  absl::Notification ended, ended2;
  bool stopped_by_loop = true, stopped2 = false, stopped3 = false;
  absl::StatusOr<std::unique_ptr<node::RespServer>> server = StartServer({});
  ASSERT_THAT(server, IsOk());

  // A handler that keeps what arrives and stops at a '.'.
  const std::thread::id test_thread = std::this_thread::get_id();
  (*server)->Watch(
      watched.fd(),
      [&, fd = watched.fd()] {
        if (std::this_thread::get_id() == test_thread) on_test_thread = true;
        char buffer[64];
        const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (n <= 0) return n < 0;  // nothing yet, or the end of input
        received.append(buffer, static_cast<size_t>(n));
        return received.find('.') == std::string::npos;
      },
      [&](bool loop_stopped) {
        stopped_by_loop = loop_stopped;
        ended.Notify();
      });
  ASSERT_THAT(SendAll(writer.fd(), "abc", absl::Now() + kTimeout), IsOk());
  // Clients are served meanwhile.
  absl::StatusOr<std::unique_ptr<RedisClient>> client =
      RedisClient::Connect((*server)->address(), kTimeout);
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT((*client)->Ping(), IsOk());
  EXPECT_FALSE(ended.HasBeenNotified());
  ASSERT_THAT(SendAll(writer.fd(), "d.", absl::Now() + kTimeout), IsOk());
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(kTimeout));
  EXPECT_EQ(received, "abcd.");
  EXPECT_FALSE(stopped_by_loop);
  EXPECT_FALSE(on_test_thread.load());
  ASSERT_THAT((*client)->Ping(), IsOk());

  // One still open when the server stops ends with it; one handed over later at once.
  (*server)->Watch(
      watched2.fd(), [] { return true; },
      [&](bool loop_stopped) {
        stopped2 = loop_stopped;
        ended2.Notify();
      });
  (*server)->Stop();
  ASSERT_TRUE(ended2.HasBeenNotified());
  EXPECT_TRUE(stopped2);
  (*server)->Watch(
      watched2.fd(), [] { return true; }, [&](bool loop_stopped) { stopped3 = loop_stopped; });
  EXPECT_TRUE(stopped3);
}

}  // namespace
}  // namespace kv::testing
