#include "tools/kv_bench/rss_sampler.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kv::bench {
namespace {

// Returns the larger of `peak` and `sample`, ignoring a missing one.
std::optional<int64_t> MaxOf(std::optional<int64_t> peak, std::optional<int64_t> sample) {
  if (!sample) return peak;
  if (!peak) return sample;
  return std::max(*peak, *sample);
}

// Parses the value of a "Name:\t  1234 kB" line (after the name); nullopt if malformed.
std::optional<int64_t> ParseKib(absl::string_view rest) {
  rest = absl::StripAsciiWhitespace(rest);
  if (!absl::ConsumeSuffix(&rest, "kB")) return std::nullopt;
  rest = absl::StripAsciiWhitespace(rest);
  int64_t value = 0;
  if (!absl::SimpleAtoi(rest, &value) || value < 0) return std::nullopt;
  return value;
}

}  // namespace

ProcStatusMemory ParseProcStatusMemory(absl::string_view status_text) {
  ProcStatusMemory out;
  for (absl::string_view line : absl::StrSplit(status_text, '\n')) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) {
      out.vm_rss_kib = ParseKib(rest);
    } else if (absl::ConsumePrefix(&rest, "VmHWM:")) {
      out.vm_hwm_kib = ParseKib(rest);
    } else if (absl::ConsumePrefix(&rest, "RssAnon:")) {
      out.rss_anon_kib = ParseKib(rest);
    } else if (absl::ConsumePrefix(&rest, "RssFile:")) {
      out.rss_file_kib = ParseKib(rest);
    }
  }
  return out;
}

absl::StatusOr<ProcStatusMemory> ReadProcStatusMemory(int pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": no such process?"));
  }
  ProcStatusMemory memory = ParseProcStatusMemory(text.str());
  if (!memory.vm_rss_kib) {
    return absl::FailedPreconditionError(absl::StrCat(path, " has no VmRSS line"));
  }
  return memory;
}

absl::StatusOr<std::unique_ptr<RssSampler>> RssSampler::Start(int pid, absl::Duration interval) {
  absl::StatusOr<ProcStatusMemory> first = ReadProcStatusMemory(pid);
  if (!first.ok()) return first.status();
  std::unique_ptr<RssSampler> sampler(new RssSampler(pid, interval, *first));
  sampler->thread_ = std::thread([s = sampler.get()] { s->Loop(); });
  return sampler;
}

RssSampler::RssSampler(int pid, absl::Duration interval, const ProcStatusMemory& first)
    : pid_(pid), interval_(interval) {
  absl::MutexLock lock(&mu_);
  report_.pid = pid;
  report_.samples = 1;
  report_.start_rss_kib = *first.vm_rss_kib;
  report_.peak_rss_kib = *first.vm_rss_kib;
  report_.vm_hwm_kib = first.vm_hwm_kib.value_or(0);
  report_.peak_rss_anon_kib = first.rss_anon_kib;
  report_.peak_rss_file_kib = first.rss_file_kib;
}

RssSampler::~RssSampler() {
  if (thread_.joinable()) {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    thread_.join();
  }
}

void RssSampler::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) Sample();
}

void RssSampler::Sample() {
  // Read outside the lock: the lock guards only the report.
  absl::StatusOr<ProcStatusMemory> memory = ReadProcStatusMemory(pid_);
  absl::MutexLock lock(&mu_);
  if (!memory.ok()) {
    ++report_.failed_reads;
    return;
  }
  ++report_.samples;
  report_.peak_rss_kib = std::max(report_.peak_rss_kib, *memory->vm_rss_kib);
  if (memory->vm_hwm_kib) report_.vm_hwm_kib = std::max(report_.vm_hwm_kib, *memory->vm_hwm_kib);
  report_.peak_rss_anon_kib = MaxOf(report_.peak_rss_anon_kib, memory->rss_anon_kib);
  report_.peak_rss_file_kib = MaxOf(report_.peak_rss_file_kib, memory->rss_file_kib);
}

RssReport RssSampler::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  Sample();
  absl::MutexLock lock(&mu_);
  return report_;
}

}  // namespace kv::bench
