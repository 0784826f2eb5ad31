#include "storage/txn.h"

#include "storage/leveldb_status.h"

namespace kv::storage {

absl::StatusOr<std::optional<std::string>> Txn::Get(absl::string_view key) const {
  if (auto staged = Staged(key)) return *staged;
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), leveldb::Slice(key.data(), key.size()),
                               &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromLevelDbStatus(s);
  return value;
}

void Txn::Put(absl::string_view key, absl::string_view value, bool readable) {
  batch_.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
  if (readable) {
    staged_[key] = std::string(value);
  } else {
    staged_.erase(key);
  }
}

void Txn::Delete(absl::string_view key) {
  batch_.Delete(leveldb::Slice(key.data(), key.size()));
  staged_[key] = std::nullopt;
}

}  // namespace kv::storage
