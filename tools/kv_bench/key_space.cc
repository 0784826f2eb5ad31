#include "tools/kv_bench/key_space.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/limits.h"

namespace kv::bench {

std::string KeyName(absl::string_view prefix, int64_t index, int64_t key_count) {
  size_t width = 1;
  for (int64_t n = key_count - 1; n >= 10; n /= 10) ++width;
  std::string digits = absl::StrCat(index);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return absl::StrCat(prefix, digits);
}

std::vector<KeyRange> PlanPreloadBatches(int64_t key_count, int64_t key_bytes, int64_t value_bytes,
                                         int64_t max_batch_bytes) {
  std::vector<KeyRange> out;
  const int64_t item_bytes = std::max<int64_t>(1, key_bytes + value_bytes);
  const int64_t budget = std::min(max_batch_bytes, kMaxBulkRequestBytes);
  const int64_t per_batch = std::clamp<int64_t>(budget / item_bytes, 1, kMaxBulkWriteItems);
  for (int64_t begin = 0; begin < key_count; begin += per_batch) {
    out.push_back({begin, std::min(key_count, begin + per_batch)});
  }
  return out;
}

std::string RandomValue(absl::BitGen& gen, int64_t size) {
  std::string out(static_cast<size_t>(size), '\0');
  size_t i = 0;
  for (; i + 8 <= out.size(); i += 8) {
    const uint64_t word = absl::Uniform<uint64_t>(gen);
    std::memcpy(&out[i], &word, 8);
  }
  for (; i < out.size(); ++i) out[i] = static_cast<char>(absl::Uniform<uint8_t>(gen));
  return out;
}

}  // namespace kv::bench
