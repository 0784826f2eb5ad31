#ifndef KV_TOOLS_KV_BENCH_RSS_SAMPLER_H_
#define KV_TOOLS_KV_BENCH_RSS_SAMPLER_H_

// Samples another process's resident memory (/proc/<pid>/status) on a background thread,
// to report the node's peak memory during a benchmark.
//
// VmRSS alone overstates what a kv-node uses: it is RssAnon + RssFile + RssShmem, and
// RssFile counts the pages of files the process has mmapped that happen to be resident.
// LevelDB mmaps its table files, so RssFile is mostly page cache: shared with the kernel's
// cache, reclaimable under memory pressure, and not the node's own allocation. RssAnon
// (heap, stacks, gRPC and LevelDB buffers) is the node's own memory, so the sampler
// tracks its peak, and RssFile's, alongside VmRSS's.
//
// Thread safety: Start() and Stop() are called from one thread; the sampling thread only
// touches the fields guarded by mu_.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace kv::bench {

// The memory fields kv-bench reads from a /proc/<pid>/status text, in KiB.
struct ProcStatusMemory {
  std::optional<int64_t> vm_rss_kib;    // current resident set
  std::optional<int64_t> vm_hwm_kib;    // the kernel's peak resident set ("high water mark")
  std::optional<int64_t> rss_anon_kib;  // resident anonymous memory: the process's own
  std::optional<int64_t> rss_file_kib;  // resident file-backed pages (mmapped files)
};

// Returns the VmRSS, VmHWM, RssAnon and RssFile lines of `status_text`
// ("VmRSS:\t  1234 kB"); a field is nullopt when its line is missing or malformed (kernel
// threads have none; kernels before 4.5 have no RssAnon/RssFile).
ProcStatusMemory ParseProcStatusMemory(absl::string_view status_text);

// Reads /proc/<pid>/status: NOT_FOUND if the process does not exist (or is not readable),
// FAILED_PRECONDITION if it has no VmRSS (a zombie or kernel thread).
absl::StatusOr<ProcStatusMemory> ReadProcStatusMemory(int pid);

struct RssReport {
  int pid = 0;
  int64_t samples = 0;        // successful reads
  int64_t failed_reads = 0;   // e.g. the process exited during the run
  int64_t start_rss_kib = 0;  // the first sample
  int64_t peak_rss_kib = 0;   // the largest VmRSS sampled
  int64_t vm_hwm_kib = 0;     // VmHWM at Stop(): the peak over the process's whole life
  // The largest RssAnon and the largest RssFile sampled, each on its own (they need not
  // come from the same sample, nor add up to peak_rss_kib); nullopt if no sample had the
  // line.
  std::optional<int64_t> peak_rss_anon_kib;
  std::optional<int64_t> peak_rss_file_kib;
};

class RssSampler {
 public:
  // Takes a first sample of `pid` and starts sampling every `interval`. Fails as
  // ReadProcStatusMemory does if the first read fails.
  static absl::StatusOr<std::unique_ptr<RssSampler>> Start(int pid, absl::Duration interval);

  // Stops sampling (joins the thread), takes a last sample and returns what was seen.
  // REQUIRES: called at most once.
  RssReport Stop();

  ~RssSampler();

 private:
  RssSampler(int pid, absl::Duration interval, const ProcStatusMemory& first);
  void Loop();
  void Sample();

  // Constant after construction.
  const int pid_;
  const absl::Duration interval_;

  absl::Notification stop_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  RssReport report_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_RSS_SAMPLER_H_
