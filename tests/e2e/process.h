#ifndef KV_TESTS_E2E_PROCESS_H_
#define KV_TESTS_E2E_PROCESS_H_

// Starting and stopping the real binaries from end-to-end tests. Every process a test
// starts is tracked by pid and killed when its handle goes away, so a failing test
// leaves nothing behind.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kv::e2e {

// Returns the directory holding the built binaries ($KV_BIN_DIR, set by ctest).
std::string BinDir();

// Returns a fresh empty directory under the test temp dir. It lives until the end of the
// test that is running (call it from within a test, not from SetUpTestSuite): then it is
// removed if the test passed, and kept (its path printed) if it failed.
std::string MakeTempDir(const std::string& name);

struct CommandResult {
  int exit_code = -1;  // -1: killed by the timeout
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), feeding `input` on stdin.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         absl::Duration timeout = absl::Seconds(120));

// Polls `condition` every 10 ms until it holds or `bound` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition, absl::Duration bound);

// A child process; killed (SIGKILL) and reaped on destruction if still running.
class ChildProcess {
 public:
  // Starts argv with stdout and stderr appended to `log_path`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  void Signal(int signal) const;
  // Waits for exit; returns the exit code (128 + signal if killed) or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  bool Running();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
  int exit_code_ = 0;
};

// A kv-node started on ephemeral ports with its own data directory.
class NodeProcess {
 public:
  // Waits for `ready_file`, then reads the addresses from it.
  static absl::StatusOr<std::unique_ptr<NodeProcess>> Launch(std::vector<std::string> argv,
                                                             const std::string& ready_file,
                                                             const std::string& log_path);
  // Starts kv-node on `data_dir` and waits until it serves (ready file written).
  static absl::StatusOr<std::unique_ptr<NodeProcess>> Start(const std::string& data_dir,
                                                            const std::string& node_id = "e2e");
  // Starts node `node_id` of the cluster config at `config_path`, its data under
  // `data_root`, and waits until it serves.
  static absl::StatusOr<std::unique_ptr<NodeProcess>> StartFromConfig(
      const std::string& config_path, const std::string& node_id, const std::string& data_root);

  const std::string& grpc_address() const { return grpc_; }
  const std::string& metrics_address() const { return metrics_; }
  // The RESP port ("" if the node serves none).
  const std::string& resp_address() const { return resp_; }
  ChildProcess& process() { return *process_; }
  const std::string& log_path() const { return log_path_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string grpc_, metrics_, resp_, log_path_;
};

// Fetches http://address/path with a plain HTTP/1.0 GET; returns the body.
absl::StatusOr<std::string> HttpGet(const std::string& address, const std::string& path);

}  // namespace kv::e2e

#endif  // KV_TESTS_E2E_PROCESS_H_
