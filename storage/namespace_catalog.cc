#include "storage/namespace_catalog.h"

#include <algorithm>

namespace kv::storage {

void NamespaceCatalog::Set(absl::string_view id, NamespaceRecord record) {
  absl::MutexLock lock(&mu_);
  by_id_[id] = Entry{std::move(record), false};
}

std::optional<NamespaceRecord> NamespaceCatalog::Find(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second.record;
}

bool NamespaceCatalog::IsLive(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_id_.find(id);
  return it != by_id_.end() && !it->second.record.tombstone;
}

std::optional<std::string> NamespaceCatalog::FindLiveByTitle(absl::string_view title) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, entry] : by_id_) {
    if (!entry.record.tombstone && entry.record.title == title) return id;
  }
  return std::nullopt;
}

std::vector<NamespaceInfo> NamespaceCatalog::ListLive() const {
  std::vector<NamespaceInfo> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [id, entry] : by_id_) {
      if (!entry.record.tombstone) out.push_back({id, entry.record.title});
    }
  }
  std::sort(out.begin(), out.end(), [](const NamespaceInfo& a, const NamespaceInfo& b) {
    return a.title != b.title ? a.title < b.title : a.id < b.id;
  });
  return out;
}

std::vector<std::string> NamespaceCatalog::PendingPurge() const {
  std::vector<std::string> out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, entry] : by_id_) {
    if (entry.record.tombstone && !entry.purged) out.push_back(id);
  }
  return out;
}

void NamespaceCatalog::MarkPurged(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  if (auto it = by_id_.find(id); it != by_id_.end()) it->second.purged = true;
}

}  // namespace kv::storage
