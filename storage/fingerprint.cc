#include "storage/fingerprint.h"

#include <algorithm>

namespace kv::storage {

void Fingerprint::Apply(absl::string_view ns_id, uint64_t delta) {
  absl::MutexLock lock(&mu_);
  if (dropped_.contains(ns_id)) return;
  shares_[ns_id] ^= delta;
  total_ ^= delta;
}

void Fingerprint::DropNamespace(absl::string_view ns_id) {
  absl::MutexLock lock(&mu_);
  if (!dropped_.insert(std::string(ns_id)).second) return;
  if (auto it = shares_.find(ns_id); it != shares_.end()) {
    total_ ^= it->second;
    shares_.erase(it);
  }
}

void Fingerprint::Record(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  if (sequence < clean_from_) return;
  // A sequence recorded again (a replay) or lower (a new lineage) starts over.
  while (!points_.empty() && points_.back().first >= sequence) points_.pop_back();
  points_.emplace_back(sequence, total_);
  if (points_.size() > kPoints) points_.pop_front();
}

void Fingerprint::RaiseCleanFrom(uint64_t clean_from) {
  absl::MutexLock lock(&mu_);
  clean_from_ = std::max(clean_from_, clean_from);
}

void Fingerprint::Forget(uint64_t clean_from) {
  absl::MutexLock lock(&mu_);
  points_.clear();
  clean_from_ = std::max(clean_from_, clean_from);
}

void Fingerprint::Reset() {
  absl::MutexLock lock(&mu_);
  points_.clear();
  clean_from_ = 0;
}

uint64_t Fingerprint::clean_from() const {
  absl::MutexLock lock(&mu_);
  return clean_from_;
}

std::optional<uint64_t> Fingerprint::At(uint64_t sequence) const {
  absl::MutexLock lock(&mu_);
  auto it = std::lower_bound(points_.begin(), points_.end(), sequence,
                             [](const auto& point, uint64_t s) { return point.first < s; });
  if (it == points_.end() || it->first != sequence) return std::nullopt;
  return it->second;
}

uint64_t Fingerprint::Total() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

}  // namespace kv::storage
