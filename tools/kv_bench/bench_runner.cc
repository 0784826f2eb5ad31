#include "tools/kv_bench/bench_runner.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "tools/kv_bench/bench_namespace.h"
#include "tools/kv_bench/key_space.h"
#include "tools/kv_bench/latency_recorder.h"
#include "tools/kv_bench/rss_sampler.h"

namespace kv::bench {
namespace {

enum OpKind { kGetOp = 0, kPutOp = 1, kListOp = 2, kOpKinds = 3 };
constexpr const char* kOpNames[kOpKinds] = {"get", "put", "list"};

// Returns `size` random bytes: incompressible, so LevelDB's compression flatters nothing.
// Adds what `step` was doing to a failed call's status.
absl::Status Annotate(const absl::Status& s, absl::string_view step) {
  return absl::Status(s.code(), absl::StrCat(step, ": ", s.message()));
}

}  // namespace

struct BenchRunner::WorkerStats {
  LatencyRecorder latency[kOpKinds];
  std::map<absl::StatusCode, int64_t> errors;
  std::string first_error;
  int64_t misses = 0;
  int64_t value_bytes = 0;
  int64_t listed_keys = 0;
};

BenchRunner::BenchRunner(BenchOptions options, kv::Client setup, std::vector<kv::Client> channels)
    : options_(std::move(options)), setup_(std::move(setup)), channels_(std::move(channels)) {}

absl::Status BenchRunner::Prepare(const ProgressFn& progress) {
  if (channels_.empty()) return absl::InvalidArgumentError("no channels to run on");
  if (options_.mode == Mode::kPropagation) {
    return absl::InvalidArgumentError("--mode propagation runs in PropagationRunner");
  }
  // One call up front tells "node down" apart from every later failure.
  absl::Status probe;
  if (options_.namespace_id.empty()) {
    probe = setup_.ListNamespaces().status();
  } else {
    probe = setup_.List(options_.namespace_id, {.limit = 1}).status();
  }
  if (probe.code() == absl::StatusCode::kUnavailable ||
      probe.code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach node at ", options_.endpoint, ": ", probe.message()));
  }
  if (probe.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("namespace ", options_.namespace_id, " not found on ", options_.endpoint));
  }
  if (!probe.ok()) return Annotate(probe, "first call to the node");

  if (options_.namespace_id.empty()) {
    absl::StatusOr<std::string> id = ResolveBenchNamespace(setup_);
    if (!id.ok()) return id.status();
    namespace_id_ = *id;
  } else {
    namespace_id_ = options_.namespace_id;
  }

  keys_.reserve(static_cast<size_t>(options_.keys));
  for (int64_t i = 0; i < options_.keys; ++i) {
    keys_.push_back(KeyName(options_.key_prefix, i, options_.keys));
  }
  if (NeedsPreload(options_.mode)) {
    absl::Status s = Preload(progress);
    if (!s.ok()) return s;
  }
  for (size_t i = 0; i < channels_.size(); ++i) {
    absl::Status s = channels_[i].List(namespace_id_, {.limit = 1}).status();
    if (!s.ok()) return Annotate(s, absl::StrCat("connecting channel ", i));
  }
  prepared_ = true;
  return absl::OkStatus();
}

absl::Status BenchRunner::Preload(const ProgressFn& progress) {
  absl::BitGen gen;
  const int64_t key_bytes = static_cast<int64_t>(keys_.back().size());
  int64_t done = 0;
  for (const KeyRange& range : PlanPreloadBatches(options_.keys, key_bytes, options_.value_size)) {
    std::vector<BulkPutItem> items;
    items.reserve(static_cast<size_t>(range.end - range.begin));
    for (int64_t i = range.begin; i < range.end; ++i) {
      items.push_back({.key = keys_[i], .value = RandomValue(gen, options_.value_size)});
    }
    absl::StatusOr<BulkPutResult> result = setup_.BulkPut(namespace_id_, items);
    if (!result.ok()) {
      return Annotate(result.status(),
                      absl::StrCat("preloading keys ", range.begin, "..", range.end - 1));
    }
    if (!result->unsuccessful_keys.empty()) {
      const KeyError& e = result->unsuccessful_keys.front();
      return absl::InternalError(
          absl::StrCat("preload: node rejected key \"", e.key, "\": ", e.error));
    }
    done = range.end;
    if (progress) progress(done, options_.keys);
  }
  return absl::OkStatus();
}

void BenchRunner::Work(int index, WorkerStats* stats) {
  const kv::Client& client = channels_[static_cast<size_t>(index) % channels_.size()];
  absl::BitGen gen;
  // Each put sends this buffer with a fresh counter in its first bytes, so no two puts
  // write the same value, at no per-call cost.
  std::string value = options_.mode == Mode::kPut || options_.mode == Mode::kMixed
                          ? RandomValue(gen, options_.value_size)
                          : std::string();
  uint64_t put_counter = static_cast<uint64_t>(index) << 40;
  std::string cursor;  // list mode pages through the key space, then starts over
  const int64_t key_count = static_cast<int64_t>(keys_.size());

  start_.WaitForNotification();
  for (;;) {
    const Clock::time_point begin = Clock::now();
    // With --requests the ticket decides; otherwise see the end of the call below.
    const bool ticketed = options_.requests > 0 && begin >= measure_start_;
    if (options_.requests == 0) {
      if (begin >= deadline_) break;
    } else if (ticketed && issued_.fetch_add(1, std::memory_order_relaxed) >= options_.requests) {
      break;
    }
    OpKind kind = kGetOp;
    switch (options_.mode) {
      case Mode::kGet:
        kind = kGetOp;
        break;
      case Mode::kPut:
        kind = kPutOp;
        break;
      case Mode::kList:
        kind = kListOp;
        break;
      case Mode::kMixed:
        kind = absl::Bernoulli(gen, options_.read_ratio) ? kGetOp : kPutOp;
        break;
      case Mode::kPropagation:  // refused by Prepare()
        return;
    }
    const std::string& key = keys_[absl::Uniform<int64_t>(gen, 0, key_count)];

    absl::Status status;
    int64_t bytes = 0, listed = 0;
    bool miss = false;
    Clock::time_point start, end;
    switch (kind) {
      case kGetOp: {
        start = Clock::now();
        absl::StatusOr<std::optional<std::string>> got = client.Get(namespace_id_, key);
        end = Clock::now();
        status = got.status();
        if (got.ok()) {
          if (got->has_value()) {
            bytes = static_cast<int64_t>((*got)->size());
          } else {
            miss = true;
          }
        }
        break;
      }
      case kPutOp: {
        ++put_counter;
        std::memcpy(value.data(), &put_counter, std::min(value.size(), sizeof(put_counter)));
        start = Clock::now();
        status = client.Put(namespace_id_, key, value);
        end = Clock::now();
        if (status.ok()) bytes = static_cast<int64_t>(value.size());
        break;
      }
      case kListOp: {
        ListOptions list{
            .prefix = options_.key_prefix, .limit = options_.list_limit, .cursor = cursor};
        start = Clock::now();
        absl::StatusOr<ListResult> page = client.List(namespace_id_, list);
        end = Clock::now();
        status = page.status();
        if (page.ok()) {
          listed = static_cast<int64_t>(page->keys.size());
          cursor = page->list_complete ? std::string() : page->cursor;
        } else {
          cursor.clear();
        }
        break;
      }
      case kOpKinds:
        continue;
    }
    // A call that straddles the end of the warmup is measured: dropping it would hide
    // exactly the calls that stall.
    const bool measured = options_.requests > 0 ? ticketed : end >= measure_start_;
    if (!measured) continue;
    if (!status.ok()) {
      ++stats->errors[status.code()];
      if (stats->first_error.empty()) stats->first_error = status.ToString();
      continue;
    }
    stats->latency[kind].Record(
        std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
    stats->value_bytes += bytes;
    stats->listed_keys += listed;
    if (miss) ++stats->misses;
  }
}

absl::StatusOr<BenchResult> BenchRunner::Run() {
  if (!prepared_) return absl::FailedPreconditionError("Run() before a successful Prepare()");
  if (start_.HasBeenNotified()) return absl::FailedPreconditionError("Run() called twice");

  std::unique_ptr<RssSampler> sampler;
  if (options_.node_pid > 0) {
    absl::StatusOr<std::unique_ptr<RssSampler>> started =
        RssSampler::Start(options_.node_pid, options_.rss_interval);
    if (!started.ok()) return Annotate(started.status(), "--node-pid");
    sampler = std::move(*started);
  }

  std::vector<WorkerStats> stats(static_cast<size_t>(options_.concurrency));
  std::vector<std::thread> workers;
  workers.reserve(stats.size());
  for (int i = 0; i < options_.concurrency; ++i) {
    workers.emplace_back([this, i, s = &stats[static_cast<size_t>(i)]] { Work(i, s); });
  }
  // Threads are created (and their values built) before the clock starts.
  measure_start_ = Clock::now() + absl::ToChronoNanoseconds(options_.warmup);
  deadline_ = measure_start_ + absl::ToChronoNanoseconds(options_.duration);
  start_.Notify();
  for (std::thread& t : workers) t.join();
  const Clock::time_point finished = Clock::now();

  BenchResult result;
  result.options = options_;
  result.namespace_id = namespace_id_;
  result.channels = static_cast<int>(channels_.size());
  result.elapsed = absl::FromChrono(std::max(Clock::duration::zero(), finished - measure_start_));
  if (sampler) result.node_memory = sampler->Stop();

  LatencyRecorder all;
  LatencyRecorder by_op[kOpKinds];
  std::map<absl::StatusCode, int64_t> errors;
  for (const WorkerStats& s : stats) {
    for (int k = 0; k < kOpKinds; ++k) {
      all.Merge(s.latency[k]);
      by_op[k].Merge(s.latency[k]);
    }
    for (const auto& [code, n] : s.errors) errors[code] += n;
    if (result.first_error.empty()) result.first_error = s.first_error;
    result.misses += s.misses;
    result.value_bytes += s.value_bytes;
    result.listed_keys += s.listed_keys;
  }
  result.ops = all.count();
  result.latency = all.Summary();
  for (int k = 0; k < kOpKinds; ++k) {
    if (by_op[k].count() > 0) result.by_op[kOpNames[k]] = by_op[k].Summary();
  }
  for (const auto& [code, n] : errors) {
    result.errors += n;
    result.errors_by_code[absl::StatusCodeToString(code)] = n;
  }
  return result;
}

}  // namespace kv::bench
