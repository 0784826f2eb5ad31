// End-to-end: the real kv-node binary, driven by the real kvctl and the SDK over TCP on
// 127.0.0.1, killed with SIGKILL right after acknowledged writes and restarted.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/testing/status_matchers.h"
#include "tests/e2e/process.h"

namespace kv::e2e {
namespace {

using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::testing::HasSubstr;
using ::testing::Optional;

class NodeE2eTest : public ::testing::Test {
 protected:
  void StartNode() {
    auto node = NodeProcess::Start(data_dir_);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    ClientOptions options;
    options.endpoint = node_->grpc_address();
    client_ = std::make_unique<Client>(Client::Connect(options));
  }

  CommandResult Kvctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), BinDir() + "/kvctl");
    args.push_back("--endpoint=" + node_->grpc_address());
    return RunCommand(args, input);
  }

  // Runs kvctl, expects success, returns stdout parsed as JSON.
  nlohmann::json KvctlJson(const std::vector<std::string>& args) {
    CommandResult r = Kvctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  }

  std::string data_dir_ = MakeTempDir("node") + "/data";
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<Client> client_;
};

TEST_F(NodeE2eTest, KvctlDrivesEveryOperation) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  nlohmann::json ns = KvctlJson({"namespace", "create", "e2e-sessions"});
  ASSERT_TRUE(ns.contains("id")) << ns.dump();
  const std::string id = ns["id"];
  const std::string ns_flag = "--namespace-id=" + id;

  // Values: argument, file (binary), metadata and TTL.
  EXPECT_EQ(Kvctl({"key", "put", "greeting", "hello edge", ns_flag}).exit_code, 0);
  CommandResult got = Kvctl({"key", "get", "greeting", ns_flag});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "hello edge");  // raw bytes, no newline

  const std::string dir = MakeTempDir("files");
  std::string binary(3 << 20, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 131 % 251);
  std::ofstream(dir + "/blob.bin", std::ios::binary) << binary;
  EXPECT_EQ(Kvctl({"key", "put", "blob", "--path", dir + "/blob.bin", ns_flag, "--ttl", "3600",
                   "--metadata", "{\"kind\":\"blob\"}"})
                .exit_code,
            0);
  got = Kvctl({"key", "get", "blob", ns_flag});
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_TRUE(got.out == binary) << "binary value differs, " << got.out.size() << " bytes";
  nlohmann::json with_meta = KvctlJson({"key", "get", "blob", ns_flag, "--with-metadata"});
  EXPECT_EQ(with_meta["metadata"], nlohmann::json({{"kind", "blob"}}));
  EXPECT_TRUE(with_meta["expiration"].is_number());

  // Missing keys and bad input: clear messages, distinct exit codes, nothing stored.
  got = Kvctl({"key", "get", "nope", ns_flag});
  EXPECT_EQ(got.exit_code, 3);
  EXPECT_THAT(got.err, HasSubstr("Value not found"));
  got = Kvctl({"key", "put", std::string(513, 'k'), "v", ns_flag});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_THAT(got.err, HasSubstr("UTF-8 encoded length of 513 exceeds key length limit of 512."));
  got = Kvctl({"key", "put", "k", "v", ns_flag, "--ttl", "30"});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_THAT(got.err, HasSubstr("Expiration TTL must be at least 60."));
  got = Kvctl({"key", "get", "k", "--namespace-id=0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_THAT(got.err, HasSubstr("namespace not found"));

  // Bulk put from the wrangler bulk format, including a base64 value.
  nlohmann::json bulk = nlohmann::json::array();
  for (int i = 0; i < 1500; ++i) {
    bulk.push_back({{"key", absl::StrCat("user:", 10000 + i)}, {"value", absl::StrCat("v", i)}});
  }
  bulk.push_back({{"key", "bin"}, {"value", absl::Base64Escape(std::string("\0\xff\x01", 3))},
                  {"base64", true}, {"metadata", {{"a", 1}}}, {"expiration_ttl", 600}});
  std::ofstream(dir + "/bulk.json") << bulk.dump();
  nlohmann::json put = KvctlJson({"bulk", "put", dir + "/bulk.json", ns_flag});
  EXPECT_EQ(put["successful_key_count"], 1501) << put.dump();
  got = Kvctl({"key", "get", "bin", ns_flag});
  EXPECT_EQ(got.out, std::string("\0\xff\x01", 3));

  // Listing: every page followed, in order, with a prefix.
  nlohmann::json keys = KvctlJson({"key", "list", ns_flag, "--prefix", "user:"});
  ASSERT_TRUE(keys.is_array()) << keys.dump().substr(0, 200);
  ASSERT_EQ(keys.size(), 1500u);
  EXPECT_EQ(keys[0]["name"], "user:10000");
  EXPECT_EQ(keys[1499]["name"], "user:11499");
  nlohmann::json page = KvctlJson({"key", "list", ns_flag, "--limit", "10"});
  EXPECT_EQ(page["keys"].size(), 10u);
  EXPECT_EQ(page["list_complete"], false);

  // Bulk get and delete.
  std::ofstream(dir + "/keys.json") << nlohmann::json({"user:10001", "missing"}).dump();
  nlohmann::json values = KvctlJson({"bulk", "get", dir + "/keys.json", ns_flag});
  EXPECT_EQ(values["user:10001"], "v1");
  EXPECT_TRUE(values["missing"].is_null());
  nlohmann::json deleted = KvctlJson({"bulk", "delete", dir + "/keys.json", ns_flag});
  EXPECT_EQ(deleted["successful_key_count"], 2);
  EXPECT_EQ(Kvctl({"key", "get", "user:10001", ns_flag}).exit_code, 3);
  EXPECT_EQ(Kvctl({"key", "delete", "greeting", ns_flag}).exit_code, 0);
  EXPECT_EQ(Kvctl({"key", "get", "greeting", ns_flag}).exit_code, 3);

  // Namespaces: list, rename, delete.
  nlohmann::json list = KvctlJson({"namespace", "list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["title"], "e2e-sessions");
  EXPECT_EQ(KvctlJson({"namespace", "rename", "renamed", ns_flag})["title"], "renamed");
  EXPECT_EQ(Kvctl({"namespace", "delete", ns_flag}).exit_code, 0);
  EXPECT_EQ(KvctlJson({"namespace", "list"}).size(), 0u);
}

TEST_F(NodeE2eTest, SigkillRightAfterAcknowledgedWritesLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  absl::StatusOr<Namespace> ns = client_->CreateNamespace("crash");
  ASSERT_THAT(ns, IsOk());

  // A bulk file written through kvctl just before the crash.
  const std::string dir = MakeTempDir("bulk");
  nlohmann::json bulk = nlohmann::json::array();
  for (int i = 0; i < 2000; ++i) bulk.push_back({{"key", absl::StrCat("bulk-", i)}, {"value", "b"}});
  std::ofstream(dir + "/bulk.json") << bulk.dump();
  ASSERT_EQ(Kvctl({"bulk", "put", dir + "/bulk.json", "--namespace-id=" + ns->id}).exit_code, 0);

  // Writers run flat out; the node is killed while they are mid-flight.
  std::mutex mu;
  std::map<std::string, std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> acks{0};
  std::vector<std::thread> writers;
  // A failed assertion below returns early: the writers stop and are joined first.
  absl::Cleanup join_writers = [&] {
    stop = true;
    for (auto& w : writers) {
      if (w.joinable()) w.join();
    }
  };
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string key = absl::StrCat("w", t, "-", i);
        // One writer sends multi-chunk values, the rest small ones.
        const std::string value =
            t == 0 ? std::string((2 << 20) + i, static_cast<char>('a' + i % 26)) : absl::StrCat(t, ":", i);
        if (client_->Put(ns->id, key, value).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged[key] = value;
          ++acks;
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return acks.load() >= 3000; }, absl::Seconds(120)));
  node_->process().Signal(SIGKILL);
  ASSERT_THAT(node_->process().Wait(absl::Seconds(30)), IsOkAndHolds(128 + SIGKILL));
  stop = true;
  for (auto& w : writers) w.join();

  ASSERT_NO_FATAL_FAILURE(StartNode());  // same data directory
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(acknowledged.size(), 3000u);
  int missing = 0;
  for (const auto& [key, value] : acknowledged) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(ns->id, key);
    ASSERT_THAT(got, IsOk());
    if (!got->has_value() || **got != value) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged writes";
  for (int i = 0; i < 2000; i += 97) {
    EXPECT_THAT(client_->Get(ns->id, absl::StrCat("bulk-", i)),
                IsOkAndHolds(Optional(std::string("b"))));
  }
}

TEST_F(NodeE2eTest, SigtermShutsDownCleanlyAndKeepsData) {
  ASSERT_NO_FATAL_FAILURE(StartNode());
  absl::StatusOr<Namespace> ns = client_->CreateNamespace("graceful");
  ASSERT_THAT(ns, IsOk());
  ASSERT_THAT(client_->Put(ns->id, "k", "v"), IsOk());
  // Metrics are served in Prometheus text format.
  absl::StatusOr<std::string> metrics = HttpGet(node_->metrics_address(), "/metrics");
  ASSERT_THAT(metrics, IsOk());
  EXPECT_THAT(*metrics, HasSubstr("kv_rpc_requests_total{code=\"OK\",method=\"Put\"} 1"));
  EXPECT_THAT(*metrics, HasSubstr("# TYPE kv_rpc_duration_seconds histogram"));

  node_->process().Signal(SIGTERM);
  EXPECT_THAT(node_->process().Wait(absl::Seconds(30)), IsOkAndHolds(0));
  ASSERT_NO_FATAL_FAILURE(StartNode());
  EXPECT_THAT(client_->Get(ns->id, "k"), IsOkAndHolds(Optional(std::string("v"))));
}

}  // namespace
}  // namespace kv::e2e
