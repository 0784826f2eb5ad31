#include "tools/kv_bench/rss_sampler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

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

TEST(RssSamplerTest, ParsesRssAnonAndRssFileInKib) {
  ProcStatusMemory m = ParseProcStatusMemory(kStatus);
  ASSERT_TRUE(m.rss_anon_kib.has_value());
  ASSERT_TRUE(m.rss_file_kib.has_value());
  EXPECT_EQ(*m.rss_anon_kib, 98304);
  EXPECT_EQ(*m.rss_file_kib, 25152);
}

// The figures of the 8 concurrent 25 MiB puts that prompted RssAnon/RssFile: VmRSS is
// mostly LevelDB's mmapped tables (RssFile), not the node's own memory (RssAnon).
TEST(RssSamplerTest, ParsesAFileBackedMajority) {
  constexpr char kBigPuts[] =
      "Name:\tkv-node\n"
      "VmHWM:\t  290816 kB\n"
      "VmRSS:\t  286720 kB\n"
      "RssAnon:\t  112640 kB\n"
      "RssFile:\t  174080 kB\n"
      "RssShmem:\t       0 kB\n";
  ProcStatusMemory m = ParseProcStatusMemory(kBigPuts);
  EXPECT_EQ(m.vm_rss_kib, 286720);
  EXPECT_EQ(m.vm_hwm_kib, 290816);
  EXPECT_EQ(m.rss_anon_kib, 112640);  // 110 MiB
  EXPECT_EQ(m.rss_file_kib, 174080);  // 170 MiB
}

TEST(RssSamplerTest, MissingFieldsAreNullopt) {
  // Kernel threads have no Vm* lines; RssAnon must not be mistaken for VmRSS.
  ProcStatusMemory m = ParseProcStatusMemory("Name:\tkthreadd\nRssAnon:\t 5 kB\nThreads:\t1\n");
  EXPECT_FALSE(m.vm_rss_kib.has_value());
  EXPECT_FALSE(m.vm_hwm_kib.has_value());
  EXPECT_EQ(m.rss_anon_kib, 5);
  EXPECT_FALSE(m.rss_file_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("").vm_rss_kib.has_value());
  // Kernels before 4.5 have VmRSS but no RssAnon/RssFile.
  ProcStatusMemory old = ParseProcStatusMemory("VmHWM:\t 9 kB\nVmRSS:\t 8 kB\n");
  EXPECT_EQ(old.vm_rss_kib, 8);
  EXPECT_FALSE(old.rss_anon_kib.has_value());
  EXPECT_FALSE(old.rss_file_kib.has_value());
  // RssShmem is neither.
  ProcStatusMemory shmem = ParseProcStatusMemory("VmRSS:\t 8 kB\nRssShmem:\t 3 kB\n");
  EXPECT_FALSE(shmem.rss_anon_kib.has_value());
  EXPECT_FALSE(shmem.rss_file_kib.has_value());
}

TEST(RssSamplerTest, MalformedValuesAreNullopt) {
  EXPECT_FALSE(ParseProcStatusMemory("VmRSS:\t  12x4 kB\n").vm_rss_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("VmRSS:\t  1234 MB\n").vm_rss_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("VmRSS:\t\n").vm_rss_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("RssAnon:\t  -5 kB\n").rss_anon_kib.has_value());
  EXPECT_FALSE(ParseProcStatusMemory("RssFile:\t  12 pages\n").rss_file_kib.has_value());
  // No trailing newline is fine.
  EXPECT_EQ(ParseProcStatusMemory("VmRSS: 7 kB").vm_rss_kib, 7);
}

TEST(RssSamplerTest, ReadsOwnProcess) {
  absl::StatusOr<ProcStatusMemory> m = ReadProcStatusMemory(getpid());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GT(*m->vm_rss_kib, 0);
  EXPECT_GE(m->vm_hwm_kib.value_or(0), *m->vm_rss_kib);
  // Linux >= 4.5: a running process has anonymous memory and mmapped files (its binary).
  ASSERT_TRUE(m->rss_anon_kib.has_value());
  ASSERT_TRUE(m->rss_file_kib.has_value());
  EXPECT_GT(*m->rss_anon_kib, 0);
  EXPECT_GT(*m->rss_file_kib, 0);
  EXPECT_LE(*m->rss_anon_kib + *m->rss_file_kib, *m->vm_rss_kib);
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
  ASSERT_TRUE(r.peak_rss_anon_kib.has_value());
  ASSERT_TRUE(r.peak_rss_file_kib.has_value());
  EXPECT_GT(*r.peak_rss_anon_kib, 0);
  EXPECT_GT(*r.peak_rss_file_kib, 0);
  // Each is part of some VmRSS sample, so neither can exceed the largest one.
  EXPECT_LE(*r.peak_rss_anon_kib, r.peak_rss_kib);
  EXPECT_LE(*r.peak_rss_file_kib, r.peak_rss_kib);
}

TEST(RssSamplerTest, PeakAnonTracksAnAllocationWhileSampling) {
  absl::StatusOr<std::unique_ptr<RssSampler>> sampler =
      RssSampler::Start(getpid(), absl::Milliseconds(1));
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  absl::StatusOr<ProcStatusMemory> before = ReadProcStatusMemory(getpid());
  ASSERT_TRUE(before.ok() && before->rss_anon_kib.has_value());
  {
    // 64 MiB of touched heap is anonymous memory; Stop() samples while it is still held.
    constexpr size_t kBytes = 64 << 20;
    std::vector<char> block(kBytes);
    volatile char* touch = block.data();  // volatile: the writes cannot be optimised away
    for (size_t i = 0; i < kBytes; i += 4096) touch[i] = 1;
    RssReport r = (*sampler)->Stop();
    ASSERT_TRUE(r.peak_rss_anon_kib.has_value());
    EXPECT_GE(*r.peak_rss_anon_kib, *before->rss_anon_kib + (kBytes / 1024) * 9 / 10);
  }
}

TEST(RssSamplerTest, MissingProcessFailsToStart) {
  // pid_max is at most 2^22; this pid cannot exist.
  EXPECT_EQ(ReadProcStatusMemory(1 << 30).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(RssSampler::Start(1 << 30, absl::Milliseconds(10)).ok());
}

}  // namespace
}  // namespace kv::bench
