#ifndef KV_STORAGE_KEYS_H_
#define KV_STORAGE_KEYS_H_

// The on-disk key encoding (doc/storage.md). Every LevelDB key starts with a one-byte tag
// naming its kind; the rest is laid out so that a LevelDB range scan is exactly the
// query we need (a namespace's keys in UTF-8 byte order, expirations in time order, a
// blob's chunks in offset order). Pure functions; thread-safe.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace kv::storage::keys {

inline constexpr char kMetaTag = 'm';       // m <name>                      -> meta value
inline constexpr char kNamespaceTag = 'n';  // n <ns id:32>                  -> NamespaceRecord
inline constexpr char kDataTag = 'd';       // d <ns id:32> <key>            -> Record
inline constexpr char kChunkTag = 'c';      // c <blob:u64be> <index:u32be>  -> value bytes
inline constexpr char kExpiryTag = 'x';     // x <exp:u64be> <ns id:32> <key> -> ""
inline constexpr char kUploadTag = 'u';     // u <blob:u64be>                -> "" (in flight)
inline constexpr char kLogTag = 'l';        // l <seq:u64be>                 -> LogEntry
inline constexpr char kTombstoneTag = 'g';  // g <hlc:u64be> <ns id:32> <key> -> "" (gc index)

// Meta names.
inline constexpr absl::string_view kMetaFormat = "format";       // decimal format version
inline constexpr absl::string_view kMetaHlc = "hlc";             // u64be HLC high-water mark
inline constexpr absl::string_view kMetaSequence = "seq";        // u64be applied sequence
inline constexpr absl::string_view kMetaEpoch = "epoch";         // u64be log lineage
inline constexpr absl::string_view kMetaLogStart = "log_start";  // u64be first retained entry
// u64be: the data holds versions shipped ahead of their log entries, up to this sequence
// (Fingerprint::clean_from; absent or at most "seq" when the data is exactly "seq").
inline constexpr absl::string_view kMetaHorizon = "horizon";

std::string Meta(absl::string_view name);
std::string Namespace(absl::string_view ns_id);
std::string Data(absl::string_view ns_id, absl::string_view key);
// Returns the smallest data key of `ns_id` whose user key starts with `prefix`.
std::string DataPrefix(absl::string_view ns_id, absl::string_view prefix);
std::string Chunk(uint64_t blob_id, uint32_t index);
std::string ChunkPrefix(uint64_t blob_id);
std::string Expiry(int64_t expiration, absl::string_view ns_id, absl::string_view key);
std::string Upload(uint64_t blob_id);
std::string Log(uint64_t sequence);
std::string Tombstone(uint64_t hlc, absl::string_view ns_id, absl::string_view key);

// Decoders return false when `encoded` is not a key of that kind.
bool DecodeNamespace(absl::string_view encoded, absl::string_view* ns_id);
bool DecodeData(absl::string_view encoded, absl::string_view* ns_id, absl::string_view* key);
bool DecodeChunk(absl::string_view encoded, uint64_t* blob_id, uint32_t* index);
bool DecodeExpiry(absl::string_view encoded, int64_t* expiration, absl::string_view* ns_id,
                  absl::string_view* key);
bool DecodeUpload(absl::string_view encoded, uint64_t* blob_id);
bool DecodeLog(absl::string_view encoded, uint64_t* sequence);
bool DecodeTombstone(absl::string_view encoded, uint64_t* hlc, absl::string_view* ns_id,
                     absl::string_view* key);

// Returns the smallest string greater than every string that starts with `prefix`, or ""
// when there is none (prefix all 0xff). Used as an exclusive scan bound.
std::string PrefixSuccessor(absl::string_view prefix);

}  // namespace kv::storage::keys

#endif  // KV_STORAGE_KEYS_H_
