#ifndef KV_TOOLS_KV_BENCH_BENCH_NAMESPACE_H_
#define KV_TOOLS_KV_BENCH_BENCH_NAMESPACE_H_

// The namespace kv-bench works in, shared by every mode.

#include <string>

#include "absl/status/statusor.h"
#include "client/client.h"

namespace kv::bench {

// The namespace title kv-bench creates or reuses.
inline constexpr char kNamespaceTitle[] = "kv-bench";

// Returns the id of the namespace titled kNamespaceTitle on `client`'s node, creating it
// if there is none (safe against a concurrent kv-bench doing the same). The failing
// call's status, annotated, otherwise.
absl::StatusOr<std::string> ResolveBenchNamespace(const kv::Client& client);

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_BENCH_NAMESPACE_H_
