#include "common/log.h"

#include <unistd.h>

#include <cstring>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kv {

void LogLine(LogLevel level, const char* file, int line, absl::string_view message) {
  const char* base = std::strrchr(file, '/');
  base = base ? base + 1 : file;
  const char tag = level == LogLevel::kInfo ? 'I' : level == LogLevel::kWarning ? 'W' : 'E';
  std::string out = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
      std::string(1, tag), " ", base, ":", line, "] ", message, "\n");
  // One write per line keeps concurrent lines whole.
  (void)!::write(STDERR_FILENO, out.data(), out.size());
}

}  // namespace kv
