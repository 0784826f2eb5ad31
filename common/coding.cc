#include "common/coding.h"

namespace kv {

void PutFixed32BE(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutFixed64BE(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutLengthPrefixed(std::string* out, absl::string_view bytes) {
  PutVarint64(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

bool GetFixed32BE(absl::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(4);
  *v = r;
  return true;
}

bool GetFixed64BE(absl::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(8);
  *v = r;
  return true;
}

bool GetVarint64(absl::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0, i = 0; shift <= 63 && i < static_cast<int>(in->size()); shift += 7, ++i) {
    const uint64_t byte = static_cast<unsigned char>((*in)[i]);
    if (shift == 63 && byte > 1) return false;  // would overflow 64 bits
    r |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = r;
      return true;
    }
  }
  return false;
}

bool GetLengthPrefixed(absl::string_view* in, absl::string_view* bytes) {
  absl::string_view rest = *in;
  uint64_t len;
  if (!GetVarint64(&rest, &len) || len > rest.size()) return false;
  *bytes = rest.substr(0, len);
  rest.remove_prefix(len);
  *in = rest;
  return true;
}

}  // namespace kv
