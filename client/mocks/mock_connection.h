#ifndef KV_CLIENT_MOCKS_MOCK_CONNECTION_H_
#define KV_CLIENT_MOCKS_MOCK_CONNECTION_H_

// A gMock Connection, so code that uses kv::Client can be tested without a cluster:
//
//   auto mock = std::make_shared<kv::testing::MockConnection>();
//   EXPECT_CALL(*mock, Get(ns, "flag:dark-mode", false, _))
//       .WillOnce(Return(std::optional<kv::ValueWithMetadata>({.value = "on"})));
//   MyFeatureFlags flags(kv::Client(mock));

#include <gmock/gmock.h>

#include "client/connection.h"

namespace kv::testing {

class MockConnection : public Connection {
 public:
  MOCK_METHOD(absl::StatusOr<Namespace>, CreateNamespace, (const std::string& title), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<Namespace>>, ListNamespaces, (), (override));
  MOCK_METHOD(absl::StatusOr<Namespace>, RenameNamespace,
              (const std::string& namespace_id, const std::string& title), (override));
  MOCK_METHOD(absl::Status, DeleteNamespace, (const std::string& namespace_id), (override));
  MOCK_METHOD(absl::StatusOr<std::optional<ValueWithMetadata>>, Get,
              (const std::string& namespace_id, const std::string& key, bool with_metadata,
               const GetOptions& options),
              (override));
  MOCK_METHOD(absl::StatusOr<BulkGetResult>, BulkGet,
              (const std::string& namespace_id, const std::vector<std::string>& keys,
               const BulkGetOptions& options),
              (override));
  MOCK_METHOD(absl::Status, Put,
              (const std::string& namespace_id, const std::string& key, const std::string& value,
               const PutOptions& options),
              (override));
  MOCK_METHOD(absl::Status, Delete, (const std::string& namespace_id, const std::string& key),
              (override));
  MOCK_METHOD(absl::StatusOr<BulkPutResult>, BulkPut,
              (const std::string& namespace_id, const std::vector<BulkPutItem>& items),
              (override));
  MOCK_METHOD(absl::StatusOr<int64_t>, BulkDelete,
              (const std::string& namespace_id, const std::vector<std::string>& keys),
              (override));
  MOCK_METHOD(absl::StatusOr<ListResult>, List,
              (const std::string& namespace_id, const ListOptions& options), (override));
};

}  // namespace kv::testing

#endif  // KV_CLIENT_MOCKS_MOCK_CONNECTION_H_
