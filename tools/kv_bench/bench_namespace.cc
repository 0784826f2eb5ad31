#include "tools/kv_bench/bench_namespace.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace kv::bench {

absl::StatusOr<std::string> ResolveBenchNamespace(const kv::Client& client) {
  // Two rounds: a concurrent kv-bench may create the namespace between list and create.
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<std::vector<Namespace>> all = client.ListNamespaces();
    if (!all.ok()) {
      return absl::Status(all.status().code(),
                          absl::StrCat("listing namespaces: ", all.status().message()));
    }
    for (const Namespace& ns : *all) {
      if (ns.title == kNamespaceTitle) return ns.id;
    }
    absl::StatusOr<Namespace> created = client.CreateNamespace(kNamespaceTitle);
    if (created.ok()) return created->id;
    if (created.status().code() != absl::StatusCode::kAlreadyExists) {
      return absl::Status(created.status().code(),
                          absl::StrCat("creating namespace \"", kNamespaceTitle,
                                       "\": ", created.status().message()));
    }
  }
  return absl::AbortedError(
      absl::StrCat("namespace \"", kNamespaceTitle, "\" exists but is not listed"));
}

}  // namespace kv::bench
