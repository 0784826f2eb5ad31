#include "tools/kv_bench/rss_sampler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "absl/time/time.h"

namespace kv::bench {
namespace {

// Trimmed from a real /proc/<pid>/status (Linux 6.x).
constexpr char kStatus[] =
    "Name:\tkv-node\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Pid:\t4242\n"
    "VmPeak:\t 1183748 kB\n"
    "VmSize:\t 1118212 kB\n"
    "VmLck:\t       0 kB\n"
    "VmHWM:\t  301552 kB\n"
    "VmRSS:\t  123456 kB\n"
    "RssAnon:\t   98304 kB\n"
    "RssFile:\t   25152 kB\n"
    "VmData:\t  401232 kB\n"
    "Threads:\t19\n";

TEST(RssSamplerTest, ParsesVmRssAndVmHwmInKib) {
  ProcStatusMemory m = ParseProcStatusMemory(kStatus);
  ASSERT_TRUE(m.vm_rss_kib.has_value());
  ASSERT_TRUE(m.vm_hwm_kib.has_value());
  EXPECT_EQ(*m.vm_rss_kib, 123456);
  EXPECT_EQ(*m.vm_hwm_kib, 301552);
}

TEST(RssSamplerTest, MissingFieldsAreNullopt) {
  // Kernel threads have no Vm* lines; RssAnon must not be mistaken for VmRSS.
  ProcStatusMemory m = ParseProcStatusMemory("Name:\tkthreadd\nRssAnon:\t 5 kB\nThreads:\t1\n");
  EXPECT_FALSE(m.vm_rss_kib.has_value());
  EXPECT_FALSE(m.vm_hwm_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("").vm_rss_kib.has_value());
}

TEST(RssSamplerTest, MalformedValuesAreNullopt) {
  EXPECT_FALSE(ParseProcStatusMemory("VmRSS:\t  12x4 kB\n").vm_rss_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("VmRSS:\t  1234 MB\n").vm_rss_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("VmRSS:\t\n").vm_rss_kib.has_value());
  // No trailing newline is fine.
  EXPECT_EQ(ParseProcStatusMemory("VmRSS: 7 kB").vm_rss_kib, 7);
}

TEST(RssSamplerTest, ReadsOwnProcess) {
  absl::StatusOr<ProcStatusMemory> m = ReadProcStatusMemory(getpid());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GT(*m->vm_rss_kib, 0);
  EXPECT_GE(m->vm_hwm_kib.value_or(0), *m->vm_rss_kib);
}

TEST(RssSamplerTest, SamplesOwnProcessUntilStopped) {
  absl::StatusOr<std::unique_ptr<RssSampler>> sampler =
      RssSampler::Start(getpid(), absl::Milliseconds(1));
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  RssReport r = (*sampler)->Stop();
  EXPECT_EQ(r.pid, getpid());
  EXPECT_GE(r.samples, 2);  // the first sample and the one Stop() takes
  EXPECT_EQ(r.failed_reads, 0);
  EXPECT_GT(r.start_rss_kib, 0);
  EXPECT_GE(r.peak_rss_kib, r.start_rss_kib);
  EXPECT_GE(r.vm_hwm_kib, r.peak_rss_kib);
}

TEST(RssSamplerTest, MissingProcessFailsToStart) {
  // pid_max is at most 2^22; this pid cannot exist.
  EXPECT_EQ(ReadProcStatusMemory(1 << 30).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(RssSampler::Start(1 << 30, absl::Milliseconds(10)).ok());
}

}  // namespace
}  // namespace kv::bench
