#include "node/service_context.h"

#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::node {

absl::Status ServiceContext::CheckNamespace(absl::string_view ns_id) const {
  KV_RETURN_IF_ERROR(ValidateNamespaceId(ns_id));
  return store->CheckNamespace(ns_id);
}

}  // namespace kv::node
