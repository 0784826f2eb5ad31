#ifndef KV_NODE_LIST_CURSOR_H_
#define KV_NODE_LIST_CURSOR_H_

// List cursors: opaque to clients, they mean "strictly after this key" and are bound to
// the namespace and prefix they were issued for, so a cursor reused with another prefix
// is rejected rather than silently skipping keys.
//
// Encoding: base64url (no padding) of  version:u8(1) | fnv1a64(ns_id, prefix):u64be |
// resume_after key bytes.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::node {

// Returns the cursor for resuming after `resume_after`.
std::string EncodeListCursor(absl::string_view ns_id, absl::string_view prefix,
                             absl::string_view resume_after);

// Returns the key to resume after, or INVALID_ARGUMENT ("Invalid cursor: ...") if
// `cursor` is malformed or was issued for another namespace or prefix.
absl::StatusOr<std::string> DecodeListCursor(absl::string_view cursor, absl::string_view ns_id,
                                             absl::string_view prefix);

}  // namespace kv::node

#endif  // KV_NODE_LIST_CURSOR_H_
