#ifndef KV_STORAGE_NAMESPACE_CATALOG_H_
#define KV_STORAGE_NAMESPACE_CATALOG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "storage/record.h"

namespace kv::storage {

struct NamespaceInfo {
  std::string id;
  std::string title;
};

// The in-memory index of every namespace record, live and deleted, so reads check a
// namespace without touching disk. It mirrors the 'n' records: loaded at open, changed
// only by the committer after a namespace change is durable. Thread-safe.
class NamespaceCatalog {
 public:
  // Replaces the entry for `id` with `record`.
  void Set(absl::string_view id, NamespaceRecord record);

  // Returns the record of `id`, live or deleted, or nullopt if never seen.
  std::optional<NamespaceRecord> Find(absl::string_view id) const;
  // Returns true if `id` names a live namespace.
  bool IsLive(absl::string_view id) const;
  // Returns the id of the live namespace titled `title`, if any.
  std::optional<std::string> FindLiveByTitle(absl::string_view title) const;
  // Returns the live namespaces ordered by title.
  std::vector<NamespaceInfo> ListLive() const;
  // Returns the ids of deleted namespaces whose keys may still need purging.
  std::vector<std::string> PendingPurge() const;
  // Records that `id`'s keys are all gone.
  void MarkPurged(absl::string_view id);

 private:
  struct Entry {
    NamespaceRecord record;
    bool purged = false;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::storage

#endif  // KV_STORAGE_NAMESPACE_CATALOG_H_
