#include "tools/kv_bench/bench_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kv::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

BenchResult SampleResult() {
  BenchResult r;
  r.options.mode = Mode::kGet;
  r.options.endpoint = "127.0.0.1:7400";
  r.options.concurrency = 16;
  r.options.keys = 10000;
  r.options.value_size = 100;
  r.namespace_id = "0123456789abcdef0123456789abcdef";
  r.channels = 4;
  r.elapsed = absl::Seconds(2);
  r.ops = 5000;
  r.errors = 3;
  r.errors_by_code["UNAVAILABLE"] = 3;
  r.value_bytes = 4'000'000;
  r.latency = Summarize({1500, 250, 1000, 2000});
  r.by_op["get"] = r.latency;
  return r;
}

TEST(BenchReportTest, ThroughputAndBandwidthUseElapsed) {
  BenchResult r = SampleResult();
  EXPECT_DOUBLE_EQ(Throughput(r), 2500);
  EXPECT_DOUBLE_EQ(MegabytesPerSecond(r), 2);
  r.elapsed = absl::ZeroDuration();
  EXPECT_EQ(Throughput(r), 0);
  EXPECT_EQ(MegabytesPerSecond(r), 0);
}

TEST(BenchReportTest, JsonHasStableFieldsInMilliseconds) {
  BenchResult r = SampleResult();
  nlohmann::json j = nlohmann::json::parse(FormatJson(r));
  EXPECT_EQ(j["mode"], "get");
  EXPECT_EQ(j["ops"], 5000);
  EXPECT_EQ(j["errors"], 3);
  EXPECT_EQ(j["errors_by_code"]["UNAVAILABLE"], 3);
  EXPECT_DOUBLE_EQ(j["throughput_ops_per_s"].get<double>(), 2500);
  EXPECT_DOUBLE_EQ(j["mb_per_s"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(j["elapsed_s"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["p50"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["p90"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["p999"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["min"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["mean"].get<double>(), 1.1875);
  EXPECT_EQ(j["by_op"]["get"]["count"], 4);
  EXPECT_TRUE(j["node_memory"].is_null());
}

TEST(BenchReportTest, JsonReportsNodeMemoryInMib) {
  BenchResult r = SampleResult();
  r.node_memory = RssReport{.pid = 7,
                            .samples = 12,
                            .start_rss_kib = 1024,
                            .peak_rss_kib = 307200,
                            .vm_hwm_kib = 409600,
                            .peak_rss_anon_kib = 112640,
                            .peak_rss_file_kib = 174592};
  nlohmann::json j = nlohmann::json::parse(FormatJson(r));
  EXPECT_EQ(j["node_memory"]["pid"], 7);
  EXPECT_DOUBLE_EQ(j["node_memory"]["start_rss_mib"].get<double>(), 1);
  EXPECT_DOUBLE_EQ(j["node_memory"]["peak_rss_mib"].get<double>(), 300);
  EXPECT_DOUBLE_EQ(j["node_memory"]["peak_rss_anon_mib"].get<double>(), 110);
  EXPECT_DOUBLE_EQ(j["node_memory"]["peak_rss_file_mib"].get<double>(), 170.5);
  EXPECT_DOUBLE_EQ(j["node_memory"]["vm_hwm_mib"].get<double>(), 400);
}

TEST(BenchReportTest, JsonAnonAndFileAreNullWithoutTheKernelLines) {
  BenchResult r = SampleResult();
  r.node_memory = RssReport{.pid = 7, .samples = 1, .start_rss_kib = 1024, .peak_rss_kib = 1024};
  nlohmann::json j = nlohmann::json::parse(FormatJson(r));
  ASSERT_TRUE(j["node_memory"].contains("peak_rss_anon_mib"));
  ASSERT_TRUE(j["node_memory"].contains("peak_rss_file_mib"));
  EXPECT_TRUE(j["node_memory"]["peak_rss_anon_mib"].is_null());
  EXPECT_TRUE(j["node_memory"]["peak_rss_file_mib"].is_null());
  EXPECT_DOUBLE_EQ(j["node_memory"]["peak_rss_mib"].get<double>(), 1);
  EXPECT_THAT(FormatTable(r), HasSubstr("peak 1.0 MiB, peak anon n/a (file n/a), VmHWM 0.0 MiB"));
}

TEST(BenchReportTest, JsonSurvivesInvalidUtf8InErrors) {
  BenchResult r = SampleResult();
  r.first_error = "bad \xff byte";
  EXPECT_NO_THROW(nlohmann::json::parse(FormatJson(r)));
}

TEST(BenchReportTest, TableShowsTheFigures) {
  BenchResult r = SampleResult();
  std::string table = FormatTable(r);
  EXPECT_THAT(table, HasSubstr("5000  (2500.0 ops/s)"));
  EXPECT_THAT(table, HasSubstr("UNAVAILABLE=3"));
  EXPECT_THAT(table, HasSubstr("p50 1.000  p90 2.000  p99 2.000  p99.9 2.000  max 2.000"));
  EXPECT_THAT(table, HasSubstr("(2.00 MB/s)"));
  EXPECT_THAT(table, Not(HasSubstr("node RSS")));
  r.node_memory = RssReport{.pid = 7,
                            .samples = 3,
                            .start_rss_kib = 1024,
                            .peak_rss_kib = 2048,
                            .vm_hwm_kib = 4096,
                            .peak_rss_anon_kib = 1536,
                            .peak_rss_file_kib = 512};
  EXPECT_THAT(FormatTable(r),
              HasSubstr("start 1.0 MiB, peak 2.0 MiB, peak anon 1.5 MiB (file 0.5 MiB), "
                        "VmHWM 4.0 MiB  (3 samples)"));
}

}  // namespace
}  // namespace kv::bench
