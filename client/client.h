#ifndef KV_CLIENT_CLIENT_H_
#define KV_CLIENT_CLIENT_H_

// The EdgeKV C++ SDK, shaped after the Workers KV API:
//
//   kv::Client client = kv::Client::Connect({.endpoint = "127.0.0.1:7400"});
//   absl::StatusOr<kv::Namespace> ns = client.CreateNamespace("sessions");
//   absl::Status s = client.Put(ns->id, "session:42", token,
//                               {.expiration_ttl = absl::Hours(1)});
//   absl::StatusOr<std::optional<std::string>> v = client.Get(ns->id, "session:42");
//
// A missing key is not an error: Get returns an OK nullopt. Client is a cheap-to-copy
// value over a shared, thread-safe Connection; copies share it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/connection.h"
#include "client/options.h"
#include "client/types.h"

namespace kv {

class Client {
 public:
  // Uses `connection` (must not be null), e.g. a kv::testing::MockConnection.
  explicit Client(std::shared_ptr<Connection> connection) : conn_(std::move(connection)) {}

  // Returns a client talking gRPC to options.endpoint.
  static Client Connect(const ClientOptions& options = {});

  // --- Namespaces ---
  absl::StatusOr<Namespace> CreateNamespace(const std::string& title) const {
    return conn_->CreateNamespace(title);
  }
  absl::StatusOr<std::vector<Namespace>> ListNamespaces() const { return conn_->ListNamespaces(); }
  absl::StatusOr<Namespace> RenameNamespace(const std::string& namespace_id,
                                            const std::string& title) const {
    return conn_->RenameNamespace(namespace_id, title);
  }
  // Deletes the namespace and all its keys.
  absl::Status DeleteNamespace(const std::string& namespace_id) const {
    return conn_->DeleteNamespace(namespace_id);
  }

  // --- Keys ---
  // Returns the value, or nullopt if the key does not exist (or expired).
  absl::StatusOr<std::optional<std::string>> Get(const std::string& namespace_id,
                                                 const std::string& key,
                                                 const GetOptions& options = {}) const;
  // Returns value, metadata and expiration, or nullopt if the key does not exist.
  absl::StatusOr<std::optional<ValueWithMetadata>> GetWithMetadata(
      const std::string& namespace_id, const std::string& key,
      const GetOptions& options = {}) const {
    return conn_->Get(namespace_id, key, /*with_metadata=*/true, options);
  }
  // Returns 1..100 keys at once; missing keys map to nullopt.
  absl::StatusOr<BulkGetResult> BulkGet(const std::string& namespace_id,
                                        const std::vector<std::string>& keys,
                                        const BulkGetOptions& options = {}) const {
    return conn_->BulkGet(namespace_id, keys, options);
  }
  // Writes value, metadata and expiration together; OK once durable at the origin.
  absl::Status Put(const std::string& namespace_id, const std::string& key,
                   const std::string& value, const PutOptions& options = {}) const {
    return conn_->Put(namespace_id, key, value, options);
  }
  // Deletes a key; OK whether or not it existed.
  absl::Status Delete(const std::string& namespace_id, const std::string& key) const {
    return conn_->Delete(namespace_id, key);
  }
  // Writes 1..10,000 items (<= 100 MiB). Items that fail validation are reported in
  // unsuccessful_keys; the others are written.
  absl::StatusOr<BulkPutResult> BulkPut(const std::string& namespace_id,
                                        const std::vector<BulkPutItem>& items) const {
    return conn_->BulkPut(namespace_id, items);
  }
  // Deletes 1..10,000 keys; returns how many were processed.
  absl::StatusOr<int64_t> BulkDelete(const std::string& namespace_id,
                                     const std::vector<std::string>& keys) const {
    return conn_->BulkDelete(namespace_id, keys);
  }
  // Lists one page of keys in UTF-8 byte order. Loop while !list_complete, passing the
  // returned cursor (with the same prefix).
  absl::StatusOr<ListResult> List(const std::string& namespace_id,
                                  const ListOptions& options = {}) const {
    return conn_->List(namespace_id, options);
  }

  const std::shared_ptr<Connection>& connection() const { return conn_; }

 private:
  std::shared_ptr<Connection> conn_;
};

}  // namespace kv

#endif  // KV_CLIENT_CLIENT_H_
