#ifndef KV_CLIENT_OPTIONS_H_
#define KV_CLIENT_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

namespace kv {

// Where the default local cluster's first node listens (cluster-configs/local-1.yaml).
inline constexpr char kDefaultEndpoint[] = "127.0.0.1:7400";

struct RetryPolicy {
  // Total attempts for an idempotent call (reads, deletes) that fails with UNAVAILABLE
  // or DEADLINE_EXCEEDED. Writes that may have landed (puts) are never retried.
  int max_attempts = 5;
  // Backoff before the second attempt; doubles each time up to max_backoff, with
  // +-25 % jitter so many clients do not retry in step.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
};

struct ClientOptions {
  // host:port of any node.
  std::string endpoint = kDefaultEndpoint;
  // Deadline of each attempt. Large transfers (25 MiB values, big bulk calls) need it.
  absl::Duration timeout = absl::Seconds(60);
  RetryPolicy retry;
};

}  // namespace kv

#endif  // KV_CLIENT_OPTIONS_H_
