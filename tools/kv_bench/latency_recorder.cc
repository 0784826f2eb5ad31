#include "tools/kv_bench/latency_recorder.h"

#include <algorithm>

namespace kv::bench {

int64_t NearestRankPercentile(const std::vector<int64_t>& sorted, int per_mille) {
  if (sorted.empty()) return 0;
  const int64_t n = static_cast<int64_t>(sorted.size());
  // Integer ceil(per_mille * n / 1000): no floating-point rounding at exact ranks.
  int64_t rank = (static_cast<int64_t>(per_mille) * n + 999) / 1000;
  rank = std::clamp<int64_t>(rank, 1, n);
  return sorted[rank - 1];
}

LatencySummary Summarize(std::vector<int64_t> samples_us) {
  LatencySummary out;
  if (samples_us.empty()) return out;
  std::sort(samples_us.begin(), samples_us.end());
  out.count = static_cast<int64_t>(samples_us.size());
  out.min_us = samples_us.front();
  out.max_us = samples_us.back();
  out.p50_us = NearestRankPercentile(samples_us, 500);
  out.p90_us = NearestRankPercentile(samples_us, 900);
  out.p99_us = NearestRankPercentile(samples_us, 990);
  out.p999_us = NearestRankPercentile(samples_us, 999);
  double sum = 0;
  for (int64_t v : samples_us) sum += static_cast<double>(v);
  out.mean_us = sum / static_cast<double>(out.count);
  return out;
}

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  samples_us_.insert(samples_us_.end(), other.samples_us_.begin(), other.samples_us_.end());
}

}  // namespace kv::bench
