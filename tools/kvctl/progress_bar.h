#ifndef KV_TOOLS_KVCTL_PROGRESS_BAR_H_
#define KV_TOOLS_KVCTL_PROGRESS_BAR_H_

// A one-line progress bar for long bulk jobs, redrawn in place with "\r":
//
//   bulk put [##########..........]  50000/100000  50%  12345 items/s  eta 4s
//
// kvctl draws it on stderr only when stderr is a terminal; scripts never see it.

#include <cstdint>
#include <iosfwd>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv::kvctl {

// Returns the bar's text (without "\r") for `done` of `total` items after `elapsed`.
std::string FormatProgress(absl::string_view label, int64_t done, int64_t total,
                           absl::Duration elapsed);

// Not thread-safe: one job updates its bar.
class ProgressBar {
 public:
  // Redraws are at least this far apart (about ten a second).
  static constexpr absl::Duration kMinRedrawInterval = absl::Milliseconds(100);

  // Draws on `out` (not owned); a null `out` makes every call a no-op.
  ProgressBar(std::ostream* out, std::string label, int64_t total, absl::Time start);

  // Records that `done` items are finished; redraws unless the last redraw was less than
  // kMinRedrawInterval ago. The final count (done == total) is always drawn.
  void Update(int64_t done, absl::Time now);

  // Ends the line if anything was drawn, so later output starts on a fresh line.
  void Finish();

  // Returns how many times the bar was drawn (for tests).
  int redraws() const { return redraws_; }

 private:
  std::ostream* const out_;
  const std::string label_;
  const int64_t total_;
  const absl::Time start_;
  absl::Time last_redraw_ = absl::InfinitePast();
  int redraws_ = 0;
};

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_PROGRESS_BAR_H_
