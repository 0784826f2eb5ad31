#ifndef KV_TOOLS_KV_BENCH_LATENCY_RECORDER_H_
#define KV_TOOLS_KV_BENCH_LATENCY_RECORDER_H_

// Exact latency percentiles from every recorded sample.
//
// Each worker thread owns one LatencyRecorder (not thread-safe: no locks on the hot path)
// and the runner merges them after the workers have joined. Samples are kept as a plain
// vector of microseconds: 8 bytes per operation is a few MB at the rates one node
// reaches, and it gives exact percentiles instead of bucket approximations.

#include <cstdint>
#include <vector>

namespace kv::bench {

// Percentiles use the nearest-rank definition: the p-th percentile of n sorted samples is
// the sample of rank ceil(p / 100 * n) (1-based), so it is always an observed value.
struct LatencySummary {
  int64_t count = 0;  // samples; every other field is 0 when this is 0
  int64_t min_us = 0;
  int64_t p50_us = 0;
  int64_t p90_us = 0;
  int64_t p99_us = 0;
  int64_t p999_us = 0;  // p99.9
  int64_t max_us = 0;
  double mean_us = 0;
};

// Returns the nearest-rank percentile of `sorted` (ascending) for `per_mille` in
// [1, 1000], e.g. 999 for p99.9. Returns 0 for an empty vector.
int64_t NearestRankPercentile(const std::vector<int64_t>& sorted, int per_mille);

// Returns the summary of `samples_us` (any order).
LatencySummary Summarize(std::vector<int64_t> samples_us);

class LatencyRecorder {
 public:
  // Records one operation's latency in microseconds (negative values count as 0).
  void Record(int64_t micros) { samples_us_.push_back(micros < 0 ? 0 : micros); }
  // Appends every sample of `other`.
  void Merge(const LatencyRecorder& other);
  int64_t count() const { return static_cast<int64_t>(samples_us_.size()); }
  // Returns the summary of everything recorded so far.
  LatencySummary Summary() const { return Summarize(samples_us_); }

 private:
  std::vector<int64_t> samples_us_;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_LATENCY_RECORDER_H_
