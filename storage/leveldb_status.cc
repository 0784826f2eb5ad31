#include "storage/leveldb_status.h"

#include "absl/strings/str_cat.h"

namespace kv::storage {

absl::Status FromLevelDbStatus(const leveldb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const std::string text = absl::StrCat("storage: ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(text);
  if (s.IsCorruption()) return absl::DataLossError(text);
  if (s.IsIOError()) return absl::UnavailableError(text);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(text);
  return absl::InternalError(text);
}

}  // namespace kv::storage
