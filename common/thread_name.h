#ifndef KV_COMMON_THREAD_NAME_H_
#define KV_COMMON_THREAD_NAME_H_

// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it: each long-lived
// thread of a node says what it does ("kv-commit", "kv-resp", "kv-follow", ...).

#include <string>

#include "absl/strings/string_view.h"

namespace kv {

// Linux keeps 15 bytes of a thread's name; a longer one is cut there.
void SetCurrentThreadName(absl::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string CurrentThreadName();

}  // namespace kv

#endif  // KV_COMMON_THREAD_NAME_H_
