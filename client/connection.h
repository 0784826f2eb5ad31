#ifndef KV_CLIENT_CONNECTION_H_
#define KV_CLIENT_CONNECTION_H_

// The seam between kv::Client and the network. MakeGrpcConnection() talks to a node;
// kv::testing::MockConnection (client/mocks/mock_connection.h) lets applications test
// their code without a cluster. Implementations must be thread-safe.
//
// Status codes: INVALID_ARGUMENT bad input (the Workers KV message), NOT_FOUND unknown
// namespace, ALREADY_EXISTS namespace title taken, UNAVAILABLE node unreachable (after
// retries, for idempotent calls), DEADLINE_EXCEEDED the call's deadline passed.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/channel.h"
#include "absl/status/statusor.h"
#include "client/options.h"
#include "client/types.h"

namespace kv {

class Connection {
 public:
  virtual ~Connection() = default;

  virtual absl::StatusOr<Namespace> CreateNamespace(const std::string& title) = 0;
  virtual absl::StatusOr<std::vector<Namespace>> ListNamespaces() = 0;
  virtual absl::StatusOr<Namespace> RenameNamespace(const std::string& namespace_id,
                                                    const std::string& title) = 0;
  virtual absl::Status DeleteNamespace(const std::string& namespace_id) = 0;

  // Returns nullopt when the key does not exist. Metadata and expiration are filled
  // only when `with_metadata`.
  virtual absl::StatusOr<std::optional<ValueWithMetadata>> Get(const std::string& namespace_id,
                                                               const std::string& key,
                                                               bool with_metadata,
                                                               const GetOptions& options) = 0;
  virtual absl::StatusOr<BulkGetResult> BulkGet(const std::string& namespace_id,
                                                const std::vector<std::string>& keys,
                                                const BulkGetOptions& options) = 0;
  virtual absl::Status Put(const std::string& namespace_id, const std::string& key,
                           const std::string& value, const PutOptions& options) = 0;
  virtual absl::Status Delete(const std::string& namespace_id, const std::string& key) = 0;
  virtual absl::StatusOr<BulkPutResult> BulkPut(const std::string& namespace_id,
                                                const std::vector<BulkPutItem>& items) = 0;
  // Returns the number of keys deleted (every key given; absent keys count).
  virtual absl::StatusOr<int64_t> BulkDelete(const std::string& namespace_id,
                                             const std::vector<std::string>& keys) = 0;
  virtual absl::StatusOr<ListResult> List(const std::string& namespace_id,
                                          const ListOptions& options) = 0;
};

// Returns a connection to the node at options.endpoint. The channel connects lazily, so
// this never fails; an unreachable node shows as UNAVAILABLE on the first call.
std::shared_ptr<Connection> MakeGrpcConnection(const ClientOptions& options);

// Returns a connection over an existing channel (e.g. a node's in-process channel);
// options.endpoint is ignored.
std::shared_ptr<Connection> MakeGrpcConnectionForChannel(const ClientOptions& options,
                                                         std::shared_ptr<grpc::Channel> channel);

}  // namespace kv

#endif  // KV_CLIENT_CONNECTION_H_
