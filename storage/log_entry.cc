#include "storage/log_entry.h"

#include "common/coding.h"

namespace kv::storage {
namespace {

constexpr char kLogFormat = 1;

}  // namespace

std::string EncodeLogEntry(const LogEntry& e) {
  std::string out;
  out.push_back(kLogFormat);
  out.push_back(static_cast<char>(e.kind));
  PutFixed64BE(&out, e.hlc);
  PutLengthPrefixed(&out, e.origin);
  PutLengthPrefixed(&out, e.ns_id);
  PutLengthPrefixed(&out, e.key);
  if (e.kind == LogKind::kNamespace && e.ns_record) {
    PutLengthPrefixed(&out, EncodeNamespaceRecord(*e.ns_record));
  }
  return out;
}

bool DecodeLogEntry(absl::string_view in, LogEntry* out) {
  if (in.size() < 2 || in[0] != kLogFormat) return false;
  const auto kind = static_cast<uint8_t>(in[1]);
  if (kind < 1 || kind > 4) return false;
  in.remove_prefix(2);
  LogEntry e;
  e.kind = static_cast<LogKind>(kind);
  absl::string_view origin, ns, key;
  if (!GetFixed64BE(&in, &e.hlc) || !GetLengthPrefixed(&in, &origin) ||
      !GetLengthPrefixed(&in, &ns) || !GetLengthPrefixed(&in, &key)) {
    return false;
  }
  e.origin = std::string(origin);
  e.ns_id = std::string(ns);
  e.key = std::string(key);
  if (e.kind == LogKind::kNamespace) {
    absl::string_view raw;
    NamespaceRecord record;
    if (!GetLengthPrefixed(&in, &raw) || !DecodeNamespaceRecord(raw, &record)) return false;
    e.ns_record = std::move(record);
  }
  if (!in.empty()) return false;
  *out = std::move(e);
  return true;
}

}  // namespace kv::storage
