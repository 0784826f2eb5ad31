#include "client/client.h"

namespace kv {

Client Client::Connect(const ClientOptions& options) {
  return Client(MakeGrpcConnection(options));
}

absl::StatusOr<std::optional<std::string>> Client::Get(const std::string& namespace_id,
                                                       const std::string& key,
                                                       const GetOptions& options) const {
  absl::StatusOr<std::optional<ValueWithMetadata>> got =
      conn_->Get(namespace_id, key, /*with_metadata=*/false, options);
  if (!got.ok()) return got.status();
  if (!got->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::move((*got)->value));
}

}  // namespace kv
