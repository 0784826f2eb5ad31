#ifndef KV_NODE_PUT_OPTIONS_H_
#define KV_NODE_PUT_OPTIONS_H_

// The checks every put-like request gets (Put and each BulkPut item), in the order
// Workers KV applies them: key, value size, metadata, expiration.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::node {

// A put's validated options.
struct PutOptions {
  int64_t expiration = 0;  // absolute seconds since the Unix epoch; 0 = never
  std::optional<std::string> metadata;
};

// Validates a kv.v1 PutRequest or BulkPutItem (they share field names); returns the
// options to store, or INVALID_ARGUMENT with the Workers KV message.
template <typename Message>
absl::StatusOr<PutOptions> ValidatePut(const Message& m, absl::Time now) {
  KV_RETURN_IF_ERROR(ValidateKey(m.key()));
  if (m.has_value_size()) KV_RETURN_IF_ERROR(ValidateValueSize(m.value_size()));
  PutOptions out;
  if (m.has_metadata()) {
    KV_RETURN_IF_ERROR(ValidateMetadata(m.metadata()));
    out.metadata = m.metadata();
  }
  KV_ASSIGN_OR_RETURN(
      out.expiration,
      ResolveExpiration(
          m.has_expiration() ? std::optional<int64_t>(m.expiration()) : std::nullopt,
          m.has_expiration_ttl() ? std::optional<int64_t>(m.expiration_ttl()) : std::nullopt,
          now));
  return out;
}

}  // namespace kv::node

#endif  // KV_NODE_PUT_OPTIONS_H_
