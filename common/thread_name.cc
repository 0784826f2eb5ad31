#include "common/thread_name.h"

#include <pthread.h>

namespace kv {

namespace {

// The kernel's limit (TASK_COMM_LEN) without the terminating NUL.
constexpr size_t kMaxNameBytes = 15;

}  // namespace

void SetCurrentThreadName(absl::string_view name) {
  const std::string cut(name.substr(0, kMaxNameBytes));
  pthread_setname_np(pthread_self(), cut.c_str());  // fails only for names over the limit
}

std::string CurrentThreadName() {
  char name[kMaxNameBytes + 1] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0) return "";
  return name;
}

}  // namespace kv
