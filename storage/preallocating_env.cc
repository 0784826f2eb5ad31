#include "storage/preallocating_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/match.h"

namespace kv::storage {

namespace {

// Writes are gathered up to this size before they reach the file, as LevelDB's own
// PosixWritableFile does: its log writer appends a record's header and payload apart.
constexpr size_t kBufferBytes = 64 << 10;
// LevelDB's log block (log::kBlockSize, not in its public headers). Zero-filled space
// ends on a block boundary, so whatever follows it would start a block, as a writer
// starting a file expects.
constexpr size_t kLogBlockBytes = 32 << 10;

leveldb::Status IoError(const std::string& context, int error) {
  return leveldb::Status::IOError(context, std::strerror(error));
}

// Writes all of `data` at `offset`, retrying short writes and EINTR.
bool PwriteAll(int fd, const char* data, size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

std::string DirName(const std::string& fname) {
  const size_t slash = fname.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : fname.substr(0, slash);
}

class PreallocatedLogFile final : public leveldb::WritableFile {
 public:
  PreallocatedLogFile(std::string fname, int fd, size_t chunk_bytes, bool hold_unsynced,
                      std::chrono::nanoseconds max_hold)
      : fname_(std::move(fname)),
        fd_(fd),
        chunk_bytes_(chunk_bytes),
        hold_unsynced_(hold_unsynced),
        max_hold_(max_hold) {
    buffer_.reserve(kBufferBytes);
  }

  ~PreallocatedLogFile() override {
    if (fd_ >= 0) Close();  // LevelDB may delete a file without closing it
  }

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (!error_.ok()) return error_;
    if (buffer_.empty() && hold_unsynced_) held_since_ = std::chrono::steady_clock::now();
    buffer_.append(data.data(), data.size());
    if (buffer_.size() >= kBufferBytes) return WriteBuffer();
    return leveldb::Status::OK();
  }

  // LevelDB flushes after every record. With hold_unsynced (see the header) the records
  // wait until the buffer fills, its oldest is max_hold old at a flush, or the log is
  // synced or closed.
  leveldb::Status Flush() override {
    if (!hold_unsynced_) return WriteBuffer();
    if (buffer_.empty() || std::chrono::steady_clock::now() - held_since_ < max_hold_) {
      return error_;
    }
    return WriteBuffer();
  }

  leveldb::Status Sync() override {
    leveldb::Status s = WriteBuffer();
    if (!s.ok()) return s;
    if (!dir_synced_) {
      // The file's name must be durable before a commit in it is acknowledged.
      s = SyncDir();
      if (!s.ok()) return s;
      dir_synced_ = true;
    }
    // From the first synced commit on, later ones land inside the file's size. A log
    // that is never synced stays a plain append, as LevelDB writes it, and so does a
    // holding one (a replica's, whose few synced commits gain nothing from it).
    if (!hold_unsynced_) {
      preallocate_ = true;
      Preallocate();
    }
    if (::fdatasync(fd_) != 0) return Fail(IoError(fname_, errno));
    return leveldb::Status::OK();
  }

  leveldb::Status Close() override {
    if (fd_ < 0) return leveldb::Status::OK();  // closed already
    // After a failed write the buffer is not written: LevelDB reported those records
    // as failed, so they must not reach the log later.
    leveldb::Status s = error_.ok() ? WriteBuffer() : error_;
    // The zeros past the data are not part of the log: drop them.
    if (::ftruncate(fd_, static_cast<off_t>(written_)) != 0 && s.ok()) s = IoError(fname_, errno);
    if (::close(fd_) != 0 && s.ok()) s = IoError(fname_, errno);
    fd_ = -1;
    if (error_.ok()) error_ = leveldb::Status::IOError(fname_, "closed");
    return s;
  }

 private:
  // Writes the buffered records at the end of the data. A failure is final: every later
  // call returns it, as the records it failed to write are reported failed and must not
  // be written by a later call instead.
  leveldb::Status WriteBuffer() {
    if (!error_.ok()) return error_;
    if (buffer_.empty()) return leveldb::Status::OK();
    if (!PwriteAll(fd_, buffer_.data(), buffer_.size(), static_cast<off_t>(written_))) {
      return Fail(IoError(fname_, errno));
    }
    written_ += buffer_.size();
    buffer_.clear();
    if (preallocate_) Preallocate();
    return leveldb::Status::OK();
  }

  // Zero-fills from the end of the data to the next chunk boundary once the data has
  // reached the zero-filled space, so the next commits are written inside the file's
  // size. Best effort: if it fails (a full disk), the next commit grows the file as a
  // plain append would, and the next call tries again. A crash between the data's write
  // and this one leaves the file ending at the data, as any append would.
  void Preallocate() {
    if (written_ < allocated_) return;
    const size_t target = (written_ / chunk_bytes_ + 1) * chunk_bytes_;
    if (zeros_.size() < target - written_) zeros_.resize(target - written_, '\0');
    if (PwriteAll(fd_, zeros_.data(), target - written_, static_cast<off_t>(written_))) {
      allocated_ = target;
    }
  }

  leveldb::Status Fail(leveldb::Status s) {
    error_ = s;
    return s;
  }

  leveldb::Status SyncDir() {
    const std::string dir = DirName(fname_);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError(dir, errno);
    leveldb::Status s;
    if (::fsync(fd) != 0) s = IoError(dir, errno);
    ::close(fd);
    return s;
  }

  const std::string fname_;
  int fd_;
  const size_t chunk_bytes_;
  const bool hold_unsynced_;
  const std::chrono::nanoseconds max_hold_;
  std::chrono::steady_clock::time_point held_since_;  // when buffer_ last became non-empty
  std::string buffer_;     // appended, not yet written
  size_t written_ = 0;     // bytes of log data in the file
  size_t allocated_ = 0;   // the file's size: data, then zeros
  std::string zeros_;      // a zero-filled source for extending
  bool preallocate_ = false;  // set by the first Sync()
  bool dir_synced_ = false;
  leveldb::Status error_;  // the first failed write, returned by every later call
};

}  // namespace

PreallocatingEnv::PreallocatingEnv(leveldb::Env* target, size_t chunk_bytes, bool hold_unsynced,
                                   std::chrono::nanoseconds max_hold)
    : leveldb::EnvWrapper(target),
      chunk_bytes_(std::max<size_t>(1, (chunk_bytes + kLogBlockBytes - 1) / kLogBlockBytes) *
                   kLogBlockBytes),
      hold_unsynced_(hold_unsynced),
      max_hold_(max_hold) {}

leveldb::Status PreallocatingEnv::NewWritableFile(const std::string& fname,
                                                  leveldb::WritableFile** result) {
  if (!absl::EndsWith(fname, ".log")) return target()->NewWritableFile(fname, result);
  const int fd = ::open(fname.c_str(), O_TRUNC | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *result = nullptr;
    return IoError(fname, errno);
  }
  *result = new PreallocatedLogFile(fname, fd, chunk_bytes_, hold_unsynced_, max_hold_);
  return leveldb::Status::OK();
}

leveldb::Status PreallocatingEnv::NewAppendableFile(const std::string& fname,
                                                    leveldb::WritableFile** result) {
  if (absl::EndsWith(fname, ".log")) {
    // Only LevelDB's reuse_logs appends to a log, and it would append after the zeros
    // of a log that was not closed. Refusing makes it start a new log instead.
    *result = nullptr;
    return leveldb::Status::NotSupported(fname, "PreallocatingEnv does not reopen logs");
  }
  return target()->NewAppendableFile(fname, result);
}

PreallocatingEnv* PreallocatingEnv::Default() {
  static PreallocatingEnv* const env = new PreallocatingEnv(leveldb::Env::Default());
  return env;
}

PreallocatingEnv* PreallocatingEnv::HoldingUnsynced() {
  static PreallocatingEnv* const env =
      new PreallocatingEnv(leveldb::Env::Default(), kDefaultChunkBytes, /*hold_unsynced=*/true);
  return env;
}

}  // namespace kv::storage
