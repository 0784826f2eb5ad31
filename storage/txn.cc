#include "storage/txn.h"

#include "storage/leveldb_status.h"

namespace kv::storage {

absl::StatusOr<std::optional<std::string>> Txn::Get(absl::string_view key) const {
  if (auto staged = Staged(key)) return *staged;
  if (reader_ == nullptr) reader_.reset(db_->NewIterator(leveldb::ReadOptions()));
  const leveldb::Slice target(key.data(), key.size());
  reader_->Seek(target);
  if (!reader_->status().ok()) return FromLevelDbStatus(reader_->status());
  if (!reader_->Valid() || reader_->key() != target) return std::nullopt;
  return reader_->value().ToString();
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
