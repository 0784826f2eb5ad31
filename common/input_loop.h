#ifndef KV_COMMON_INPUT_LOOP_H_
#define KV_COMMON_INPUT_LOOP_H_

// An event-loop thread that waits for input on many descriptors and takes one more from
// another thread: so a node can serve a socket of its own (an edge's replication stream)
// on the thread that already serves its clients (the RESP port), and one wake-up serves
// whatever arrived on either.
//
// Contract for implementations
// - Watch(fd, on_input, on_end): from then on `on_input` runs on the loop's thread
//   whenever `fd` has input (or hung up), until it returns false; then `on_end(false)`
//   runs there once and the loop forgets `fd`. If the loop stops first, has stopped
//   already or cannot watch `fd`, `on_end(true)` runs once instead (on the loop's
//   thread, or on the caller's): the caller should serve `fd` some other way. The loop
//   never closes `fd` or reads from it itself; the caller owns both until `on_end` has
//   run. To end a watch from outside, shut the socket down: `on_input` then sees the end
//   of input and returns false.
// - The loop's other clients wait while `on_input` runs: it should do a bounded amount
//   of work per call and leave the rest for the next (input is level-triggered). What
//   it waits for (a disk write, say) every client waits for.
// Thread-safe.

#include "absl/functional/any_invocable.h"

namespace kv {

class InputLoop {
 public:
  virtual ~InputLoop() = default;

  virtual void Watch(int fd, absl::AnyInvocable<bool()> on_input,
                     absl::AnyInvocable<void(bool loop_stopped)> on_end) = 0;
};

}  // namespace kv

#endif  // KV_COMMON_INPUT_LOOP_H_
