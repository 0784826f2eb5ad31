// End-to-end: an origin and three edges as real processes from a cluster config, under a
// write load spread over every node, with an edge and then the origin killed (SIGKILL)
// and restarted. Afterwards every acknowledged write is on every node and all replicas
// hold identical data, which each node's RESP port serves too.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/testing/free_port.h"
#include "common/testing/status_matchers.h"
#include "tests/e2e/process.h"
#include "tools/kv_bench/redis_client.h"

namespace kv::e2e {
namespace {

using ::kv::testing::IsOk;
using ::kv::testing::PickFreePort;

constexpr const char* kNodes[] = {"origin", "edge-1", "edge-2", "edge-3"};

class ClusterE2eTest : public ::testing::Test {
 protected:
  ClusterE2eTest() {
    dir_ = MakeTempDir("cluster");
    config_ = dir_ + "/cluster.yaml";
    std::ofstream out(config_);
    out << "cluster: e2e\nreplication:\n  heartbeat_ms: 200\nnodes:\n";
    for (const char* id : kNodes) {
      out << "  - id: " << id << "\n    role: " << (std::string(id) == "origin" ? "origin" : "edge")
          << "\n    region: r1\n    grpc: 127.0.0.1:" << PickFreePort()
          << "\n    metrics: 127.0.0.1:" << PickFreePort()
          << "\n    resp: 127.0.0.1:" << PickFreePort() << "\n";
    }
  }

  void Start(const std::string& id) {
    auto node = NodeProcess::StartFromConfig(config_, id, dir_);
    ASSERT_TRUE(node.ok()) << node.status();
    nodes_[id] = std::move(*node);
    // Ports are fixed by the config, so a client outlives restarts (writers keep using it).
    if (clients_.count(id) != 0) return;
    ClientOptions options;
    options.endpoint = nodes_[id]->grpc_address();
    options.timeout = absl::Seconds(20);
    options.retry.max_attempts = 1;
    clients_[id] = std::make_unique<Client>(Client::Connect(options));
  }

  void Kill(const std::string& id) {
    nodes_[id]->process().Signal(SIGKILL);
    ASSERT_THAT(nodes_[id]->process().Wait(absl::Seconds(30)), IsOk());
  }

  // Every live key of `ns` with its value, read from `id` with List + BulkGet.
  std::map<std::string, std::string> Dump(const std::string& id, const std::string& ns) {
    std::map<std::string, std::string> out;
    ListOptions options;
    while (true) {
      absl::StatusOr<ListResult> page = clients_[id]->List(ns, options);
      if (!page.ok()) return {{"<error>", page.status().ToString()}};
      std::vector<std::string> keys;
      for (const ListedKey& k : page->keys) keys.push_back(k.name);
      for (size_t i = 0; i < keys.size(); i += 100) {
        std::vector<std::string> batch(keys.begin() + i,
                                       keys.begin() + std::min(keys.size(), i + 100));
        absl::StatusOr<BulkGetResult> values = clients_[id]->BulkGet(ns, batch);
        if (!values.ok()) return {{"<error>", values.status().ToString()}};
        for (auto& [k, v] : *values) out[k] = v ? v->value : "<missing>";
      }
      if (page->list_complete) return out;
      options.cursor = page->cursor;
    }
  }

  std::string dir_, config_;
  std::map<std::string, std::unique_ptr<NodeProcess>> nodes_;
  std::map<std::string, std::unique_ptr<Client>> clients_;
};

TEST_F(ClusterE2eTest, KillingAnEdgeAndTheOriginUnderLoadLosesNoAcknowledgedWrite) {
  for (const char* id : kNodes) ASSERT_NO_FATAL_FAILURE(Start(id));
  absl::StatusOr<Namespace> ns;
  ASSERT_TRUE(WaitFor([&] {
    ns = clients_["edge-1"]->CreateNamespace("e2e");
    return ns.ok();
  }, absl::Seconds(60)));

  std::mutex mu;
  std::map<std::string, std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> acks{0};
  std::atomic<int> failures{0};
  const std::string origin_resp = nodes_["origin"]->resp_address();
  std::atomic<int> resp_acks{0};
  std::vector<std::thread> writers;
  // A failed assertion below returns early: the writers stop and are joined first.
  absl::Cleanup join_writers = [&] {
    stop = true;
    for (auto& w : writers) {
      if (w.joinable()) w.join();
    }
  };
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      // Each writer goes through its own node; keys are unique so nothing overwrites.
      const std::string via = kNodes[t];
      for (int i = 0; !stop; ++i) {
        Client* client = clients_.at(via).get();
        const std::string key = absl::StrCat(via, "/", i);
        const std::string value = absl::StrCat("value-", t, "-", i);
        if (client->Put(ns->id, key, value).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged[key] = value;
          ++acks;
        } else {
          ++failures;
          absl::SleepFor(absl::Milliseconds(20));  // the node is down; try again soon
        }
      }
    });
  }
  // And one more through the origin's RESP port (KV.PUT): an acknowledgement there is as
  // durable as a Put's. It reconnects after each failure (the origin restarts on the
  // same port).
  writers.emplace_back([&] {
    std::unique_ptr<bench::RedisClient> resp;
    for (int i = 0; !stop; ++i) {
      if (resp == nullptr) {
        absl::StatusOr<std::unique_ptr<bench::RedisClient>> c =
            bench::RedisClient::Connect(origin_resp, absl::Seconds(5));
        if (c.ok()) resp = std::move(*c);
      }
      const std::string key = absl::StrCat("resp/", i);
      const std::string value = absl::StrCat("value-resp-", i);
      absl::StatusOr<bench::RespReply> reply =
          resp ? resp->Command({"KV.PUT", ns->id, key, value})
               : absl::StatusOr<bench::RespReply>(absl::UnavailableError("not connected"));
      if (reply.ok() && reply->type == bench::RespReply::Type::kInteger) {
        std::lock_guard<std::mutex> lock(mu);
        acknowledged[key] = value;
        ++acks;
        ++resp_acks;
      } else {
        resp.reset();
        ++failures;
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  });
  auto acks_reach = [&](int n) { return WaitFor([&] { return acks.load() >= n; }, absl::Seconds(120)); };
  ASSERT_TRUE(acks_reach(500));
  ASSERT_NO_FATAL_FAILURE(Kill("edge-2"));  // its writer now fails until it is back
  ASSERT_TRUE(acks_reach(1000));
  ASSERT_NO_FATAL_FAILURE(Start("edge-2"));
  ASSERT_TRUE(acks_reach(1500));
  ASSERT_NO_FATAL_FAILURE(Kill("origin"));  // every write fails while it is down
  const int failed_before = failures.load();
  ASSERT_TRUE(WaitFor([&] { return failures.load() >= failed_before + 20; }, absl::Seconds(60)));
  ASSERT_NO_FATAL_FAILURE(Start("origin"));
  ASSERT_TRUE(acks_reach(acks.load() + 1000));
  stop = true;
  for (auto& w : writers) w.join();

  // Converged: every node serves the same data, which holds every acknowledged write.
  std::map<std::string, std::string> origin_data;
  ASSERT_TRUE(WaitFor([&] {
    origin_data = Dump("origin", ns->id);
    for (const char* id : kNodes) {
      if (Dump(id, ns->id) != origin_data) return false;
    }
    return true;
  }, absl::Seconds(120)));
  std::lock_guard<std::mutex> lock(mu);
  int missing = 0;
  for (const auto& [key, value] : acknowledged) {
    auto it = origin_data.find(key);
    if (it == origin_data.end() || it->second != value) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged writes";

  // The same writes over each node's RESP port, 100 keys per HMGET.
  for (const char* id : kNodes) {
    absl::StatusOr<std::unique_ptr<bench::RedisClient>> resp =
        bench::RedisClient::Connect(nodes_[id]->resp_address(), absl::Seconds(20));
    ASSERT_THAT(resp, IsOk()) << id;
    int resp_missing = 0;
    std::vector<absl::string_view> command = {"HMGET", ns->id};
    std::vector<const std::string*> wanted;
    auto check = [&] {
      absl::StatusOr<bench::RespReply> reply = (*resp)->Command(command);
      ASSERT_THAT(reply, IsOk()) << id;
      ASSERT_EQ(reply->elements.size(), wanted.size()) << id << ": " << reply->text;
      for (size_t i = 0; i < wanted.size(); ++i) {
        if (reply->elements[i].text != *wanted[i]) ++resp_missing;
      }
      command.resize(2);
      wanted.clear();
    };
    for (const auto& [key, value] : acknowledged) {
      command.push_back(key);
      wanted.push_back(&value);
      if (wanted.size() == 100) check();
    }
    if (!wanted.empty()) check();
    EXPECT_EQ(resp_missing, 0) << "acknowledged writes not served over RESP by " << id;
  }
  EXPECT_GE(acknowledged.size(), 2500u);
  EXPECT_GT(resp_acks.load(), 0);
  EXPECT_GT(failures.load(), 0);  // the kills were felt
}

}  // namespace
}  // namespace kv::e2e
