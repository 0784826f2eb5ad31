#ifndef KV_COMMON_TESTING_POLL_INPUT_LOOP_H_
#define KV_COMMON_TESTING_POLL_INPUT_LOOP_H_

// An InputLoop for tests: one thread poll(2)ing the watched descriptors (and a pipe that
// wakes it for new watches and Stop). Small and slow-ish; the node's is the RESP port's.

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/input_loop.h"

namespace kv::testing {

class PollInputLoop final : public InputLoop {
 public:
  PollInputLoop() {
    if (pipe(wake_) != 0) wake_[0] = wake_[1] = -1;
    thread_ = std::thread([this] { Run(); });
  }
  ~PollInputLoop() override {
    Stop();
    close(wake_[0]);
    close(wake_[1]);
  }

  void Watch(int fd, absl::AnyInvocable<bool()> on_input,
             absl::AnyInvocable<void(bool)> on_end) override {
    ++watches_;
    {
      absl::MutexLock lock(&mu_);
      if (!stopped_) {
        pending_.push_back(Entry{fd, std::move(on_input), std::move(on_end)});
        Wake();
        return;
      }
    }
    on_end(true);
  }

  void Stop() {
    stopping_ = true;
    Wake();
    if (thread_.joinable()) thread_.join();
  }

  // Watches handed over so far, and ended so far (by on_input or by Stop).
  int watches() const { return watches_.load(); }
  int ended() const { return ended_.load(); }

 private:
  struct Entry {
    int fd;
    absl::AnyInvocable<bool()> on_input;
    absl::AnyInvocable<void(bool)> on_end;
  };

  void Wake() {
    const char one = 1;
    (void)!write(wake_[1], &one, 1);
  }

  void Run() {
    std::vector<Entry> watched;
    while (!stopping_) {
      {
        absl::MutexLock lock(&mu_);
        for (Entry& e : pending_) watched.push_back(std::move(e));
        pending_.clear();
      }
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}};
      for (const Entry& e : watched) fds.push_back({e.fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 100) <= 0) continue;
      if (fds[0].revents != 0) {
        char drain[64];
        (void)!read(wake_[0], drain, sizeof(drain));
      }
      std::vector<Entry> kept;
      for (size_t i = 0; i < watched.size(); ++i) {
        if (fds[i + 1].revents == 0 || watched[i].on_input()) {
          kept.push_back(std::move(watched[i]));
          continue;
        }
        ++ended_;  // before on_end, which may wake whoever reads ended()
        watched[i].on_end(false);
      }
      watched.swap(kept);
    }
    {
      absl::MutexLock lock(&mu_);
      stopped_ = true;
      for (Entry& e : pending_) watched.push_back(std::move(e));
      pending_.clear();
    }
    for (Entry& e : watched) {
      ++ended_;
      e.on_end(true);
    }
  }

  int wake_[2];
  std::atomic<bool> stopping_{false};
  std::atomic<int> watches_{0};
  std::atomic<int> ended_{0};
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Entry> pending_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace kv::testing

#endif  // KV_COMMON_TESTING_POLL_INPUT_LOOP_H_
