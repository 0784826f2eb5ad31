#include "common/thread_name.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace kv {
namespace {

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
  const std::string before = CurrentThreadName();
  std::string seen;
  std::thread t([&] {
    SetCurrentThreadName("kv-commit");
    seen = CurrentThreadName();
  });
  t.join();
  EXPECT_EQ(seen, "kv-commit");
  EXPECT_EQ(CurrentThreadName(), before);
}

TEST(ThreadNameTest, ALongNameIsCutAtTheKernelLimit) {
  std::string seen;
  std::thread t([&] {
    SetCurrentThreadName("kv-stream-heartbeat");
    seen = CurrentThreadName();
  });
  t.join();
  EXPECT_EQ(seen, "kv-stream-heart");
}

}  // namespace
}  // namespace kv
