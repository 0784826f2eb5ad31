#ifndef KV_TOOLS_KVCTL_COMMAND_IO_H_
#define KV_TOOLS_KVCTL_COMMAND_IO_H_

// What every kvctl command shares: its streams, its exit codes and how it reports errors.
// Commands write JSON (or, for `key get`, raw value bytes) to `out` and messages to `err`,
// so tests can run them on string streams.

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::kvctl {

// Exit codes, documented in `kvctl --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // the node (or the SDK) refused or failed a call
inline constexpr int kExitUsage = 2;     // bad flags, unreadable or malformed input file
inline constexpr int kExitNotFound = 3;  // `key get`: the key does not exist

// The streams of one command run. Not owned.
struct CommandIo {
  std::ostream* out;  // JSON results, or raw value bytes for `key get`
  std::ostream* err;  // error messages and warnings
  std::istream* in;   // read for the file name "-"
  // Where bulk commands draw a progress bar: the terminal on stderr, or null (no bar)
  // when stderr is not a terminal.
  std::ostream* progress = nullptr;
};

// Writes "kvctl: <message>" to io.err and returns `exit_code`.
int ReportError(const CommandIo& io, absl::string_view message, int exit_code);

// Reports a failed call (the node's or SDK's message) and returns kExitError.
int ReportStatus(const CommandIo& io, const absl::Status& status);

// Returns the whole content of `path` as raw bytes; "-" reads io.in to its end.
// INVALID_ARGUMENT "cannot read "<path>": <reason>" when the file cannot be read.
absl::StatusOr<std::string> ReadInput(const CommandIo& io, const std::string& path);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_COMMAND_IO_H_
