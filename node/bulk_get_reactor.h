#ifndef KV_NODE_BULK_GET_REACTOR_H_
#define KV_NODE_BULK_GET_REACTOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "kv/v1/kv.pb.h"
#include "node/service_context.h"
#include "storage/store.h"

namespace kv::node {

// Serves one BulkGet. All limits are checked before the first byte goes out (count,
// type, total size <= 25 MiB, and for type "json" that every value parses), so a
// failing call sends nothing but its status. Values then stream in messages of at most
// kStreamChunkBytes, holding at most one stored chunk in memory. Deletes itself when done.
class BulkGetReactor final : public grpc::ServerWriteReactor<kv::v1::BulkGetResponse> {
 public:
  BulkGetReactor(const ServiceContext* context, const kv::v1::BulkGetRequest* request);

  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  struct Entry {
    std::string key;
    std::optional<storage::StoredValue> value;
  };

  absl::Status Prepare(const kv::v1::BulkGetRequest* request);
  // Fills message_ with the next part of the response; returns false on a read error.
  absl::Status FillNextMessage();
  // Appends up to `budget` bytes of entry_'s value from offset_ to `out`.
  absl::Status AppendValueBytes(int64_t budget, std::string* out);
  // Writes message_, finishing the call with it when it is the last.
  void WriteMessage();
  void FinishWith(const absl::Status& status);

  const ServiceContext* const ctx_;
  RpcTimer timer_;
  bool with_metadata_ = false;
  std::vector<Entry> entries_;
  kv::v1::BulkGetResponse message_;

  // Position of the stream: entry, bytes of its value sent, whether its entry header went out.
  size_t entry_ = 0;
  int64_t offset_ = 0;
  bool entry_started_ = false;
  // The stored chunk the current position lies in.
  int64_t cached_chunk_index_ = -1;
  std::string cached_chunk_;
};

}  // namespace kv::node

#endif  // KV_NODE_BULK_GET_REACTOR_H_
