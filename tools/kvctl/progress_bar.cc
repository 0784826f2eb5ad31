#include "tools/kvctl/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kv::kvctl {
namespace {

constexpr int kBarWidth = 20;

std::string FormatRate(double per_second) {
  if (per_second >= 10) return absl::StrFormat("%.0f items/s", per_second);
  return absl::StrFormat("%.1f items/s", per_second);
}

// "45s", "3m20s", "2h05m".
std::string FormatEta(int64_t seconds) {
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  return absl::StrFormat("%dh%02dm", seconds / 3600, (seconds % 3600) / 60);
}

}  // namespace

std::string FormatProgress(absl::string_view label, int64_t done, int64_t total,
                           absl::Duration elapsed) {
  done = std::clamp<int64_t>(done, 0, std::max<int64_t>(total, 0));
  // An empty job is complete.
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1;
  const int filled = static_cast<int>(std::floor(fraction * kBarWidth));
  std::string line = absl::StrFormat("%s [%s%s] %d/%d %3d%%", label, std::string(filled, '#'),
                                     std::string(kBarWidth - filled, '.'), done, total,
                                     static_cast<int>(std::floor(fraction * 100)));
  const double seconds = absl::ToDoubleSeconds(elapsed);
  if (seconds <= 0 || done == 0) return line;
  const double rate = static_cast<double>(done) / seconds;
  absl::StrAppend(&line, "  ", FormatRate(rate));
  if (done < total) {
    const auto eta = static_cast<int64_t>(std::ceil(static_cast<double>(total - done) / rate));
    absl::StrAppend(&line, "  eta ", FormatEta(eta));
  }
  return line;
}

ProgressBar::ProgressBar(std::ostream* out, std::string label, int64_t total, absl::Time start)
    : out_(out), label_(std::move(label)), total_(total), start_(start) {}

void ProgressBar::Update(int64_t done, absl::Time now) {
  if (out_ == nullptr) return;
  if (done < total_ && now - last_redraw_ < kMinRedrawInterval) return;
  last_redraw_ = now;
  ++redraws_;
  // "\x1b[K" clears what a longer previous line left behind.
  *out_ << '\r' << FormatProgress(label_, done, total_, now - start_) << "\x1b[K";
  out_->flush();
}

void ProgressBar::Finish() {
  if (out_ == nullptr || redraws_ == 0) return;
  *out_ << '\n';
  out_->flush();
}

}  // namespace kv::kvctl
