#include "tools/kv_bench/propagation_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kv::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PropagationResult SampleResult() {
  PropagationResult r;
  r.options.mode = Mode::kPropagation;
  r.options.backend = Backend::kRedis;
  r.options.endpoint = "127.0.0.1:6379";
  r.options.edges = {"127.0.0.1:6380", "127.0.0.1:6381"};
  r.options.rate = 1000;
  r.options.duration = absl::Seconds(2);
  r.run_id = "0badc0de";
  r.start = absl::FromUnixMillis(1700000000250);
  r.scheduled_writes = 2000;
  r.unissued_writes = 7;
  r.elapsed = absl::Milliseconds(2500);
  r.write_errors = 1;
  r.write_errors_by_code["DEADLINE_EXCEEDED"] = 1;
  r.first_write_error = "DEADLINE_EXCEEDED: slow";
  r.behind_schedule = 3;
  r.max_behind = absl::Microseconds(2500);
  r.write_latency = Summarize({100, 200, 300});
  r.drain = absl::Milliseconds(4);
  r.client_cpu = absl::Milliseconds(1500);
  r.visibility.measured_writes = 1999;
  r.visibility.failed_writes = 1;
  r.visibility.edges.resize(2);
  r.visibility.edges[0].delay = Summarize({1000, 2000});
  r.visibility.edges[0].seen = 1999;
  r.visibility.edges[1].delay = Summarize({3000});
  r.visibility.edges[1].seen = 1998;
  r.visibility.edges[1].never_seen = 1;
  r.visibility.all_edges = Summarize({1000, 2000, 3000});
  r.visibility.on_all_edges = Summarize({2000, 3000});
  r.visibility.never_seen = 1;
  r.visibility.never_on_all_edges = 1;
  r.edges.resize(2);
  r.edges[0].endpoint = "127.0.0.1:6380";
  r.edges[0].probes = 9000;
  r.edges[0].hits = 2100;
  r.edges[0].probe_rtt = Summarize({40, 50, 60});
  r.edges[1].endpoint = "127.0.0.1:6381";
  r.edges[1].probes = 8000;
  r.edges[1].errors = 2;
  r.edges[1].errors_by_code["UNAVAILABLE"] = 2;
  r.edges[1].first_error = "UNAVAILABLE: closed";
  return r;
}

TEST(PropagationReportTest, JsonHasStableFieldsInMilliseconds) {
  nlohmann::json j = nlohmann::json::parse(FormatPropagationJson(SampleResult()));
  EXPECT_EQ(j["mode"], "propagation");
  EXPECT_EQ(j["backend"], "redis");
  EXPECT_EQ(j["edges"].size(), 2u);
  EXPECT_EQ(j["pollers"], "per-edge");  // one_poller unset
  EXPECT_EQ(j["run_id"], "0badc0de");
  EXPECT_DOUBLE_EQ(j["start_unix_s"].get<double>(), 1700000000.25);
  EXPECT_EQ(j["scheduled_writes"], 2000);
  EXPECT_EQ(j["unissued_writes"], 7);
  EXPECT_EQ(j["acknowledged_writes"], 1999);
  EXPECT_EQ(j["write_errors"], 1);
  EXPECT_EQ(j["write_errors_by_code"]["DEADLINE_EXCEEDED"], 1);
  EXPECT_DOUBLE_EQ(j["achieved_rate"].get<double>(), 1999 / 2.5);
  EXPECT_EQ(j["behind_schedule"], 3);
  EXPECT_DOUBLE_EQ(j["max_behind_ms"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j["write_latency_ms"]["p50"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(j["drain_s"].get<double>(), 0.004);
  EXPECT_DOUBLE_EQ(j["client_cpu_s"].get<double>(), 1.5);
  ASSERT_EQ(j["per_edge"].size(), 2u);
  EXPECT_EQ(j["per_edge"][0]["endpoint"], "127.0.0.1:6380");
  EXPECT_DOUBLE_EQ(j["per_edge"][0]["visible_ms"]["p50"].get<double>(), 1.0);
  EXPECT_EQ(j["per_edge"][0]["probes"], 9000);
  EXPECT_EQ(j["per_edge"][0]["probe_hits"], 2100);
  EXPECT_DOUBLE_EQ(j["per_edge"][0]["probe_rtt_ms"]["p50"].get<double>(), 0.05);
  EXPECT_EQ(j["per_edge"][1]["never_seen"], 1);
  EXPECT_EQ(j["per_edge"][1]["probe_errors_by_code"]["UNAVAILABLE"], 2);
  EXPECT_DOUBLE_EQ(j["all_edges_ms"]["max"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["visible_on_all_ms"]["p50"].get<double>(), 2.0);
  EXPECT_EQ(j["visible_on_all_ms"]["count"], 2);
  EXPECT_EQ(j["never_seen"], 1);
  EXPECT_EQ(j["never_seen_on_all"], 1);
  EXPECT_TRUE(j["node_memory"].is_null());
}

TEST(PropagationReportTest, TableShowsEachEdgeAllEdgesAndStragglers) {
  std::string table = FormatPropagationTable(SampleResult());
  EXPECT_THAT(table, HasSubstr("kv-bench propagation (redis): origin 127.0.0.1:6379 -> 2 edges"));
  EXPECT_THAT(table,
              HasSubstr("799.6 writes/s: 1999 acknowledged in 2.500 s, 1 failed, 7 not issued"));
  EXPECT_THAT(table, HasSubstr("3 started > 1ms behind schedule (latest 2.500 ms)"));
  EXPECT_THAT(table, HasSubstr("DEADLINE_EXCEEDED=1"));
  EXPECT_THAT(table, HasSubstr("127.0.0.1:6380              1.000    2.000    2.000     2.000"));
  EXPECT_THAT(table, HasSubstr("visible on ALL edges        2.000    3.000    3.000     3.000"));
  EXPECT_THAT(table, HasSubstr("never seen     1 of 3998 (write, edge) pairs; 1 writes missing"));
  EXPECT_THAT(table, HasSubstr("read errors    127.0.0.1:6381: UNAVAILABLE=2"));
  EXPECT_THAT(table, Not(HasSubstr("node RSS")));
}

TEST(PropagationReportTest, EmptyFiguresPrintDashes) {
  PropagationResult r = SampleResult();
  r.visibility.on_all_edges = LatencySummary();
  EXPECT_THAT(FormatPropagationTable(r), HasSubstr("visible on ALL edges            -        -"));
}

}  // namespace
}  // namespace kv::bench
