#ifndef KV_STORAGE_PREALLOCATING_ENV_H_
#define KV_STORAGE_PREALLOCATING_ENV_H_

// A LevelDB Env whose write-ahead logs (*.log) are written into space zero-filled ahead
// of them, so that a synced write does not grow the file.
//
// Why: fdatasync() of a file that grew must also write its inode (the new size), a second
// I/O per synced commit; of a file written inside its size it writes the data alone. On
// this project's machines (ext4, virtio disk) that is a third less time and CPU per
// synced commit (measured: 334 -> 209-239 us, 127 -> 77 us of CPU).
//
// How: from its first Sync() on, a log file is extended in steps of `chunk_bytes` by
// writing zeros past the data (written, not fallocate()d: writing into an unwritten
// extent changes metadata too), and the data is written with pwrite() at its own offset.
// A log never synced (a replica's) stays a plain append. Close() truncates the zeros
// away. A crash leaves them at the log's tail, where LevelDB's log reader skips
// zero-filled space without reporting it (its own mmap writer used to leave the same). A
// record the crash cut short (never acknowledged: it was not synced) is then followed by
// zeros rather than the end of the file, so recovery drops it with a "checksum mismatch"
// line in LevelDB's LOG instead of silently; with paranoid_checks (the store leaves it
// off) that would fail the open. A new log's directory entry is synced with its first
// Sync(), which LevelDB itself does only for MANIFEST files: a synced commit into a new
// log then survives power loss.
//
// With `hold_unsynced` (a replica's store), a log keeps its records in the 64 KiB buffer
// until the buffer fills, the log is synced or closed, or a record is flushed when the
// oldest held one is `max_hold` old (a trickle of commits), instead of writing each
// commit's record with its own write(): on an edge that applies every write of the
// cluster, that system call was about 4% of its CPU. (A log that gets no more records
// is synced by its store once quiet: Store::SyncHeldLogIfQuiet.) The cost is that a
// killed process, not only a lost machine, then loses its last unsynced commits: up to
// 64 KiB of them, held for a few seconds at most.
// LevelDB recovers a prefix of the log either way (each commit's data and applied
// sequence are one record), so the replica reopens at an earlier applied sequence and
// pulls the rest again from the origin or a peer. A synced commit is written and synced
// with every record before it, as without the option, but its log is not preallocated.
//
// Every other file goes to the wrapped Env unchanged.

#include <chrono>
#include <cstddef>
#include <string>

#include "leveldb/env.h"

namespace kv::storage {

class PreallocatingEnv final : public leveldb::EnvWrapper {
 public:
  static constexpr size_t kDefaultChunkBytes = 256 << 10;
  static constexpr std::chrono::nanoseconds kDefaultMaxHold = std::chrono::seconds(1);

  // `target` must be a POSIX file system Env (Env::Default()); it must outlive this one.
  // `chunk_bytes` is rounded up to a multiple of LevelDB's 32 KiB log block.
  // `hold_unsynced`, `max_hold`: see above.
  explicit PreallocatingEnv(leveldb::Env* target, size_t chunk_bytes = kDefaultChunkBytes,
                            bool hold_unsynced = false,
                            std::chrono::nanoseconds max_hold = kDefaultMaxHold);

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;
  // Refused for logs (NotSupported), so LevelDB's reuse_logs falls back to a new log.
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;

  // The process-wide instance over Env::Default(), as LevelDB's own default Env is.
  static PreallocatingEnv* Default();
  // The process-wide instance over Env::Default() that holds unsynced records (replicas).
  static PreallocatingEnv* HoldingUnsynced();

 private:
  const size_t chunk_bytes_;
  const bool hold_unsynced_;
  const std::chrono::nanoseconds max_hold_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_PREALLOCATING_ENV_H_
