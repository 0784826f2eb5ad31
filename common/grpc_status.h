#ifndef KV_COMMON_GRPC_STATUS_H_
#define KV_COMMON_GRPC_STATUS_H_

// The one place where absl::Status and grpc::Status are translated. Codes map one to one
// (both follow google.rpc.Code); the message is carried unchanged.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace kv {

// Returns the gRPC form of `status`.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl form of `status`.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace kv

#endif  // KV_COMMON_GRPC_STATUS_H_
