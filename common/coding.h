#ifndef KV_COMMON_CODING_H_
#define KV_COMMON_CODING_H_

// Byte-level encodings for on-disk keys and records (doc/storage.md). Big-endian fixed
// integers keep numeric order under bytewise comparison; varints (LEB128, as LevelDB
// and protobuf) keep records compact. Decoders consume from the front of `in` and return
// false on truncated or malformed input; they never read out of bounds.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace kv {

void PutFixed32BE(std::string* out, uint32_t v);
void PutFixed64BE(std::string* out, uint64_t v);
void PutVarint64(std::string* out, uint64_t v);
// Appends varint length + bytes.
void PutLengthPrefixed(std::string* out, absl::string_view bytes);

bool GetFixed32BE(absl::string_view* in, uint32_t* v);
bool GetFixed64BE(absl::string_view* in, uint64_t* v);
bool GetVarint64(absl::string_view* in, uint64_t* v);
bool GetLengthPrefixed(absl::string_view* in, absl::string_view* bytes);

}  // namespace kv

#endif  // KV_COMMON_CODING_H_
