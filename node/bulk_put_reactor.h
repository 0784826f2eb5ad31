#ifndef KV_NODE_BULK_PUT_REACTOR_H_
#define KV_NODE_BULK_PUT_REACTOR_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "kv/v1/kv.pb.h"
#include "node/service_context.h"
#include "storage/store.h"

namespace kv::node {

// Receives one BulkPut. Each item is validated on its own: a bad item is reported in
// unsuccessful_keys with the error the single put would give, and its bytes skipped.
// Limits on the whole request (10,000 items, 100 MiB) fail the call, before anything is
// stored when the client announced item_count/total_bytes. Valid items are committed in
// sub-batches of about 4 MiB, each atomic and durable before more is read, so memory
// stays bounded whatever the request size. The reply comes once every item is durable.
// Deletes itself when done.
class BulkPutReactor final : public grpc::ServerReadReactor<kv::v1::BulkPutRequest> {
 public:
  BulkPutReactor(const ServiceContext* context, grpc::CallbackServerContext* call,
                 kv::v1::BulkPutResponse* response);

  void OnReadDone(bool ok) override;
  void OnDone() override;

 private:
  // The item whose value is being received.
  struct Item {
    std::string key;
    int64_t value_size = 0;
    int64_t received = 0;
    int64_t expiration = 0;
    std::optional<std::string> metadata;
    std::optional<std::string> error;  // set: the item is rejected; its bytes are skipped
    std::string inline_value;           // small values
    std::unique_ptr<storage::ValueBuilder> builder;  // large values
  };

  absl::Status AcceptFirst();
  // Processes message_ from where it stopped; returns when waiting on the store.
  void Process();
  void BeginItem(const kv::v1::BulkPutItem& item);
  // Feeds value bytes to the current item. Returns true to go on at once; false when
  // the call finished or a store callback will resume Process().
  bool Feed(absl::string_view data);
  void CompleteItem(std::optional<storage::BlobRef> blob);
  absl::Status CountBytes(int64_t bytes);
  void Flush(std::function<void()> next);
  void FinishWith(const absl::Status& status);

  const ServiceContext* const ctx_;
  grpc::CallbackServerContext* const call_;
  kv::v1::BulkPutResponse* const response_;
  RpcTimer timer_;

  kv::v1::BulkPutRequest message_;
  bool started_ = false;
  bool finished_ = false;
  bool continuation_done_ = false;
  int next_item_ = 0;
  std::string ns_id_;
  int64_t items_seen_ = 0;
  int64_t bytes_seen_ = 0;

  std::optional<Item> current_;
  std::vector<storage::Mutation> batch_;
  std::vector<std::string> batch_keys_;
  int64_t batch_bytes_ = 0;
  int64_t succeeded_ = 0;
};

}  // namespace kv::node

#endif  // KV_NODE_BULK_PUT_REACTOR_H_
