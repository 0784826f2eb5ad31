#include "tests/e2e/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace kv::e2e {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<char*> ArgvPointers(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Removes the directories MakeTempDir made for a test once it has passed (its fixture,
// and so every process it started, is gone by then); a failed test's are kept and named,
// for its logs and data. Without it every run left node data (up to ~20 MiB a test) in
// the temp dir.
class TempDirJanitor : public ::testing::EmptyTestEventListener {
 public:
  void Track(std::string dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(std::move(dir));
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    std::vector<std::string> dirs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      dirs.swap(dirs_);
    }
    const bool failed = info.result() != nullptr && info.result()->Failed();
    for (const std::string& dir : dirs) {
      std::error_code ignored;
      if (!std::filesystem::exists(dir, ignored)) continue;  // removed by its user
      if (failed) {
        std::cerr << "kept " << dir << ": logs and data of the failed test "
                  << info.test_suite_name() << "." << info.name() << "\n";
        continue;
      }
      std::error_code error;
      std::filesystem::remove_all(dir, error);
      if (error) std::cerr << "warning: cannot remove " << dir << ": " << error.message() << "\n";
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

// Installed before main(): gtest owns and deletes the listener.
TempDirJanitor* const janitor = [] {
  auto* j = new TempDirJanitor;
  ::testing::UnitTest::GetInstance()->listeners().Append(j);
  return j;
}();

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string BinDir() {
  const char* dir = std::getenv("KV_BIN_DIR");
  return dir != nullptr ? dir : "build/bin";
}

std::string MakeTempDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string dir = (std::filesystem::path(::testing::TempDir()) /
                           absl::StrCat("kv-e2e-", getpid(), "-", name, "-", counter++))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  janitor->Track(dir);
  return dir;
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration bound) {
  const absl::Time deadline = absl::Now() + bound;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input,
                         absl::Duration timeout) {
  const std::string dir = MakeTempDir("cmd");
  const std::string in_path = dir + "/stdin", out_path = dir + "/stdout", err_path = dir + "/stderr";
  std::ofstream(in_path, std::ios::binary) << input;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  std::vector<char*> args = ArgvPointers(argv);
  CommandResult result;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.err = absl::StrCat("cannot start ", argv[0], ": ", strerror(rc));
    return result;
  }
  int status = 0;
  const bool exited = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.exit_code = -1;
  } else {
    result.exit_code = DecodeWaitStatus(status);
  }
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  std::filesystem::remove_all(dir);
  return result;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid;
  std::vector<char*> args = ArgvPointers(argv);
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void ChildProcess::Signal(int signal) const {
  if (!reaped_) kill(pid_, signal);
}

bool ChildProcess::Running() {
  if (reaped_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    exit_code_ = DecodeWaitStatus(status);
  }
  return !reaped_;
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  if (!WaitFor([&] { return !Running(); }, timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running"));
  }
  return exit_code_;
}

absl::StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::Launch(
    std::vector<std::string> argv, const std::string& ready_file, const std::string& log_path) {
  auto node = std::make_unique<NodeProcess>();
  std::filesystem::remove(ready_file);
  node->log_path_ = log_path;
  argv.push_back("--ready-file");
  argv.push_back(ready_file);
  auto spawned = ChildProcess::Spawn(argv, log_path);
  if (!spawned.ok()) return spawned.status();
  node->process_ = std::move(*spawned);
  const bool up = WaitFor(
      [&] { return std::filesystem::exists(ready_file) || !node->process_->Running(); },
      absl::Seconds(60));
  if (!up || !node->process_->Running()) {
    return absl::UnavailableError(
        absl::StrCat("kv-node did not start; log:\n", ReadFile(log_path)));
  }
  const nlohmann::json info = nlohmann::json::parse(ReadFile(ready_file));
  node->grpc_ = info.at("grpc").get<std::string>();
  node->metrics_ = info.at("metrics").get<std::string>();
  node->resp_ = info.value("resp", "");
  return node;
}

absl::StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::Start(const std::string& data_dir,
                                                                const std::string& node_id) {
  return Launch({BinDir() + "/kv-node", "--node-id", node_id, "--data-dir", data_dir, "--listen",
                 "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--shutdown-grace", "5"},
                data_dir + ".ready.json", data_dir + ".log");
}

absl::StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::StartFromConfig(
    const std::string& config_path, const std::string& node_id, const std::string& data_root) {
  return Launch({BinDir() + "/kv-node", "--config", config_path, "--node-id", node_id,
                 "--data-root", data_root, "--shutdown-grace", "5"},
                data_root + "/" + node_id + ".ready.json", data_root + "/" + node_id + ".log");
}

absl::StatusOr<std::string> HttpGet(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError("cannot connect to " + address);
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return absl::UnavailableError("malformed HTTP response");
  return response.substr(body + 4);
}

}  // namespace kv::e2e
