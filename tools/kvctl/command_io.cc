#include "tools/kvctl/command_io.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kv::kvctl {
namespace {

absl::Status CannotRead(const std::string& path, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("cannot read \"", path, "\": ", reason));
}

// Appends everything `in` holds to `out`; false on a read error.
bool ReadAll(std::istream& in, std::string* out) {
  std::ostringstream buffer;
  buffer << in.rdbuf();
  // operator<< sets failbit on an empty stream; only badbit means the read failed.
  if (in.bad()) return false;
  *out = std::move(buffer).str();
  return true;
}

}  // namespace

int ReportError(const CommandIo& io, absl::string_view message, int exit_code) {
  *io.err << "kvctl: " << message << "\n";
  io.err->flush();
  return exit_code;
}

int ReportStatus(const CommandIo& io, const absl::Status& status) {
  return ReportError(io, status.message(), kExitError);
}

absl::StatusOr<std::string> ReadInput(const CommandIo& io, const std::string& path) {
  std::string content;
  if (path == "-") {
    if (!ReadAll(*io.in, &content)) return CannotRead(path, "read error on standard input");
    return content;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return CannotRead(path, "Is a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) return CannotRead(path, std::strerror(errno));
  const bool regular = std::filesystem::is_regular_file(path, ec);
  const uintmax_t size = regular ? std::filesystem::file_size(path, ec) : 0;
  if (regular && !ec && size > 0) {
    // Read in one go into an exactly sized buffer: values reach 25 MiB, bulk files
    // hundreds of MiB.
    content.resize(static_cast<size_t>(size));
    if (!file.read(content.data(), static_cast<std::streamsize>(size))) {
      return CannotRead(path, "read error");
    }
    return content;
  }
  // A pipe or device (e.g. /dev/stdin, a process substitution): size unknown.
  if (!ReadAll(file, &content)) return CannotRead(path, "read error");
  return content;
}

}  // namespace kv::kvctl
