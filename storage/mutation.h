#ifndef KV_STORAGE_MUTATION_H_
#define KV_STORAGE_MUTATION_H_

// The writes a Store commits. Every mutation carries its commit timestamp and origin
// node; a mutation submitted with hlc == 0 is stamped by the committing node. Applying a
// stamped mutation is last-writer-wins, so applying it twice, or after a newer one, is a
// no-op.

#include <optional>
#include <string>
#include <variant>

#include "common/hybrid_clock.h"
#include "storage/record.h"

namespace kv::storage {

// Sets a key's value, metadata and expiration together.
struct PutValue {
  std::string ns_id;
  std::string key;
  std::string inline_value;     // the value, when blob is unset
  std::optional<BlobRef> blob;  // a value uploaded with a ValueBuilder; owned by the
                                // store once submitted (freed if the put loses or fails)
  int64_t expiration = 0;       // absolute seconds since the Unix epoch; 0 = never
  std::optional<std::string> metadata;  // JSON text
};

// Deletes a key (leaves a tombstone for last-writer-wins).
struct DeleteValue {
  std::string ns_id;
  std::string key;
};

// Creates a namespace. Fails with ALREADY_EXISTS if the title is taken.
struct CreateNamespace {
  std::string ns_id;
  std::string title;
};

// Renames a live namespace. NOT_FOUND if missing, ALREADY_EXISTS if the title is taken.
struct RenameNamespace {
  std::string ns_id;
  std::string title;
};

// Deletes a namespace and, in the background, all of its keys. NOT_FOUND if missing.
struct DeleteNamespace {
  std::string ns_id;
};

// A namespace record as replicated: applied last-writer-wins, without the origin's
// title checks (the origin already made them).
struct PutNamespaceRecord {
  std::string ns_id;
  NamespaceRecord record;
};

// A replicated sequence number with nothing left to apply.
struct Noop {};

using MutationOp = std::variant<PutValue, DeleteValue, CreateNamespace, RenameNamespace,
                                DeleteNamespace, PutNamespaceRecord, Noop>;

// How a mutation relates to the replication log.
enum class Sequencing {
  // Committed here (the origin): gets the next sequence number and a log entry.
  kAssign,
  // Replicated from the origin's log: carries its sequence number, which must be the
  // next one (earlier ones are duplicates and are skipped).
  kReplicated,
  // Anti-entropy repair: applied last-writer-wins, outside the log.
  kRepair,
};

struct Mutation {
  MutationOp op;
  HlcTimestamp hlc = 0;  // 0 = stamp at commit (kAssign only)
  std::string origin;    // node that stamped it
  Sequencing sequencing = Sequencing::kAssign;
  uint64_t seq = 0;      // kReplicated: this mutation's sequence number
  // kReplicated: the timestamp of the origin's log entry, recorded in this replica's log
  // (the version applied may be newer). 0: the mutation's own hlc.
  HlcTimestamp log_hlc = 0;

  bool IsNamespaceOp() const {
    return std::holds_alternative<CreateNamespace>(op) ||
           std::holds_alternative<RenameNamespace>(op) ||
           std::holds_alternative<DeleteNamespace>(op) ||
           std::holds_alternative<PutNamespaceRecord>(op);
  }
};

}  // namespace kv::storage

#endif  // KV_STORAGE_MUTATION_H_
