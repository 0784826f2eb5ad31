#ifndef KV_COMMON_LOG_H_
#define KV_COMMON_LOG_H_

// Minimal line logging to stderr (Debian's Abseil has no absl/log). Lines look like
//   2026-11-27T04:35:47.123Z I node.cc:42] message
// Thread-safe: each line is written with one call.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kv {

enum class LogLevel { kInfo, kWarning, kError };

void LogLine(LogLevel level, const char* file, int line, absl::string_view message);

}  // namespace kv

#define KV_LOG_INFO(...) ::kv::LogLine(::kv::LogLevel::kInfo, __FILE__, __LINE__, ::absl::StrCat(__VA_ARGS__))
#define KV_LOG_WARNING(...) ::kv::LogLine(::kv::LogLevel::kWarning, __FILE__, __LINE__, ::absl::StrCat(__VA_ARGS__))
#define KV_LOG_ERROR(...) ::kv::LogLine(::kv::LogLevel::kError, __FILE__, __LINE__, ::absl::StrCat(__VA_ARGS__))

#endif  // KV_COMMON_LOG_H_
