#include "tools/kv_bench/propagation_runner.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "tools/kv_bench/key_space.h"

namespace kv::bench {
namespace {

// How long a caught-up poller waits for the next write before checking its deadline.
constexpr absl::Duration kIdleWait = absl::Milliseconds(50);
// Pause between reads of the marker in Prepare().
constexpr absl::Duration kMarkerPollInterval = absl::Milliseconds(2);

int64_t Micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// Returns the CPU time (user + system, all threads) this process has used so far.
absl::Duration ProcessCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto to_duration = [](const timeval& t) {
    return absl::Seconds(t.tv_sec) + absl::Microseconds(t.tv_usec);
  };
  return to_duration(usage.ru_utime) + to_duration(usage.ru_stime);
}

}  // namespace

struct PropagationRunner::WriterStats {
  LatencyRecorder latency;
  std::map<absl::StatusCode, int64_t> errors;
  std::string first_error;
  int64_t behind = 0;
  int64_t issued = 0;  // measured writes started
  Clock::duration max_behind = Clock::duration::zero();
  Clock::time_point finished;
};

double AchievedRate(const PropagationResult& r) {
  const double seconds = absl::ToDoubleSeconds(r.elapsed);
  return seconds > 0 ? static_cast<double>(r.visibility.measured_writes) / seconds : 0;
}

std::string PropagationKey(const std::string& run_id, int64_t index, int64_t count) {
  return KeyName(absl::StrCat("prop/", run_id, "/"), index, count);
}

PropagationRunner::PropagationRunner(BenchOptions options,
                                     std::vector<std::unique_ptr<PropagationStore>> writers,
                                     std::vector<std::unique_ptr<PropagationStore>> edges,
                                     std::string run_id)
    : options_(std::move(options)),
      writers_(std::move(writers)),
      edges_(std::move(edges)),
      run_id_(std::move(run_id)),
      writes_(PropagationWrites(options_)),
      warmup_writes_(PropagationWarmupWrites(options_)) {}

absl::Status PropagationRunner::Prepare() {
  if (edges_.empty() || edges_.size() != options_.edges.size()) {
    return absl::InvalidArgumentError("one store per --edges entry is needed");
  }
  if (writers_.empty() || static_cast<int>(writers_.size()) != options_.writers) {
    return absl::InvalidArgumentError("one store per writer (--writers) is needed");
  }
  const std::string marker = absl::StrCat("prop/", run_id_, "/ready");
  absl::StatusOr<uint64_t> written = writers_[0]->Write(marker, "ready");
  if (!written.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot write to the origin at ", options_.endpoint,
                                               ": ", written.status().ToString()));
  }
  marker_sequence_ = *written;
  if (marker_sequence_ == 0 && writers_.size() > 1) {
    return absl::FailedPreconditionError(
        "--writers above 1 needs a store that reports each write's commit sequence "
        "(EdgeKV); this one does not");
  }
  const absl::Time deadline = absl::Now() + options_.setup_timeout;
  for (size_t e = 0; e < edges_.size(); ++e) {
    absl::Status last_error;
    for (;;) {
      absl::StatusOr<bool> visible = edges_[e]->IsVisible(marker);
      if (visible.ok() && *visible) break;
      if (!visible.ok()) last_error = visible.status();
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "edge ", options_.edges[e], " did not show the marker write within ",
            absl::FormatDuration(options_.setup_timeout),
            last_error.ok() ? "" : absl::StrCat("; last read error: ", last_error.ToString())));
      }
      absl::SleepFor(kMarkerPollInterval);
    }
  }
  prepared_ = true;
  return absl::OkStatus();
}

PropagationRunner::Clock::time_point PropagationRunner::DueTime(int64_t index) const {
  return start_ + std::chrono::nanoseconds(
                      std::llround(static_cast<double>(index) * 1e9 / options_.rate));
}

void PropagationRunner::Write(int writer, WriterStats* stats) {
  PropagationStore& store = *writers_[static_cast<size_t>(writer)];
  absl::BitGen gen;
  // Each write stamps its index into the first bytes, so no two values are equal.
  std::string value = RandomValue(gen, options_.value_size);
  const Clock::time_point schedule_end = DueTime(writes_);
  for (;;) {
    // Writers take the next due write in turn: at most options.writers are in flight.
    const int64_t i = next_write_.fetch_add(1);
    if (i >= writes_) break;
    const Clock::time_point due = DueTime(i);
    if (Clock::now() < due) std::this_thread::sleep_until(due);
    if (Clock::now() >= schedule_end) break;  // behind: the rest stays unissued
    const bool measured = i >= warmup_writes_;
    const Clock::time_point begin = Clock::now();
    if (measured) {
      ++stats->issued;
      const Clock::duration late = begin - due;
      if (late > absl::ToChronoNanoseconds(kBehindScheduleSlack)) ++stats->behind;
      stats->max_behind = std::max(stats->max_behind, late);
    }
    const uint64_t stamp = static_cast<uint64_t>(i);
    std::memcpy(value.data(), &stamp, std::min(value.size(), sizeof(stamp)));
    absl::StatusOr<uint64_t> sequence = store.Write(PropagationKey(run_id_, i, writes_), value);
    const Clock::time_point end = Clock::now();
    absl::Status status = sequence.status();
    if (status.ok()) {
      // Commit order: the origin's sequence when it reports one, else the index (one
      // writer, one write in flight).
      const int64_t position =
          marker_sequence_ == 0 ? i : static_cast<int64_t>(*sequence - marker_sequence_) - 1;
      if (*sequence != 0 && *sequence <= marker_sequence_) {
        status = absl::InternalError(
            absl::StrCat("the origin committed a write at sequence ", *sequence,
                         ", not after the marker's ", marker_sequence_));
      } else if (!tracker_->WriteAcked(position, i, Since(end))) {
        status = absl::InternalError(
            absl::StrCat("the origin committed a write at sequence ", *sequence,
                         ", outside this run's range: is another client writing?"));
      }
    } else if (marker_sequence_ == 0) {
      tracker_->WriteFailed(i, i);
    }  // else its position is unknown; FinishWrites() fills the hole if it committed
    WakePoller();
    if (!measured) continue;
    if (status.ok()) {
      stats->latency.Record(Micros(end - begin));
    } else {
      ++stats->errors[status.code()];
      if (stats->first_error.empty()) stats->first_error = status.ToString();
    }
  }
  stats->finished = Clock::now();
  if (writers_left_.fetch_sub(1) == 1) {  // the last writer to stop
    drain_deadline_ns_.store(absl::ToInt64Nanoseconds(Since(stats->finished) + options_.drain));
    tracker_->FinishWrites();
    WakePoller();
  }
}

void PropagationRunner::WakePoller() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void PropagationRunner::PollAll(std::vector<EdgeProbeStats>* stats,
                                std::vector<Clock::time_point>* stopped) {
  struct EdgeState {
    EdgePoller poller;
    bool in_flight = false;
    int64_t target = 0;            // the position being read
    Clock::time_point begin;       // of the read in flight
    Clock::time_point not_before;  // the next read starts no earlier
    bool done = false;             // every write seen here
  };
  const size_t edge_count = edges_.size();
  std::vector<EdgeState> state(edge_count);
  auto fail = [&](size_t e, const absl::Status& status, Clock::time_point at) {
    CountFailure(status, &(*stats)[e], &state[e].poller);
    state[e].not_before = at + absl::ToChronoNanoseconds(kProbeErrorBackoff);
  };
  std::vector<pollfd> fds;
  std::vector<size_t> fd_edge;  // fds[i + 1] belongs to edge fd_edge[i]
  for (;;) {
    Clock::time_point now = Clock::now();
    if (absl::ToInt64Nanoseconds(Since(now)) >= drain_deadline_ns_.load()) break;
    // Read finished() first: once it is true, answered() is final.
    const bool finished = tracker_->finished();
    const int64_t answered = tracker_->answered();
    Clock::time_point wake_at = now + absl::ToChronoNanoseconds(kIdleWait);
    bool active = false;
    for (size_t e = 0; e < edge_count; ++e) {
      EdgeState& s = state[e];
      if (s.in_flight) {
        active = true;
        continue;
      }
      if (now < s.not_before) {
        active = true;
        wake_at = std::min(wake_at, s.not_before);
        continue;
      }
      const int64_t oldest = tracker_->OldestUnseen(static_cast<int>(e));
      if (oldest >= answered) {
        s.poller.hits_in_row = 0;  // start with the next write acknowledged
        if (finished && !s.done) {
          s.done = true;
          (*stopped)[e] = now;
        }
        active = active || !finished;
        continue;
      }
      active = true;
      int64_t target = 0;
      const std::string key = ProbeKey(oldest, answered, s.poller.hits_in_row, &target);
      s.begin = Clock::now();
      ++(*stats)[e].probes;
      absl::Status started = edges_[e]->StartIsVisible(key);
      if (!started.ok()) {
        fail(e, started, s.begin);
        wake_at = std::min(wake_at, s.not_before);
        continue;
      }
      s.in_flight = true;
      s.target = target;
    }
    if (!active) break;  // every edge has seen every write

    fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
    fd_edge.clear();
    for (size_t e = 0; e < edge_count; ++e) {
      if (!state[e].in_flight) continue;
      fds.push_back(pollfd{edges_[e]->poll_fd(), POLLIN, 0});
      fd_edge.push_back(e);
    }
    now = Clock::now();
    int64_t wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wake_at - now).count();
    // The deadline is INT64_MAX until the last writer stops (and Since() is negative
    // before the schedule starts): only a set one bounds the wait.
    if (const int64_t deadline = drain_deadline_ns_.load(); deadline != INT64_MAX) {
      wait_ns = std::min(wait_ns, deadline - absl::ToInt64Nanoseconds(Since(now)));
    }
    wait_ns = std::max<int64_t>(0, wait_ns);
    const timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                           static_cast<long>(wait_ns % 1'000'000'000)};
    if (ppoll(fds.data(), fds.size(), &timeout, nullptr) < 0 && errno != EINTR) {
      // Cannot wait (should not happen): give every read in flight up as failed.
      const absl::Status status =
          absl::InternalError(absl::StrCat("ppoll: ", std::strerror(errno)));
      for (size_t e : fd_edge) {
        state[e].in_flight = false;
        fail(e, status, Clock::now());
      }
      continue;
    }
    if (fds[0].revents != 0) {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof(count));
    }
    for (size_t i = 0; i < fd_edge.size(); ++i) {
      if (fds[i + 1].revents == 0) continue;
      const size_t e = fd_edge[i];
      EdgeState& s = state[e];
      absl::StatusOr<std::optional<bool>> visible = edges_[e]->TakeIsVisible();
      if (visible.ok() && !visible->has_value()) continue;  // the rest is on its way
      const Clock::time_point end = Clock::now();
      s.in_flight = false;
      if (!visible.ok()) {
        fail(e, visible.status(), end);
        continue;
      }
      CountAnswer(static_cast<int>(e), s.target, **visible, s.begin, end, &(*stats)[e],
                  &s.poller);
      if (!**visible) s.not_before = s.begin + absl::ToChronoNanoseconds(options_.poll_interval);
    }
  }
  const Clock::time_point end = Clock::now();
  for (size_t e = 0; e < edge_count; ++e) {
    if (!state[e].done) (*stopped)[e] = end;
    FinishStats(state[e].poller, &(*stats)[e]);
  }
}

void PropagationRunner::CountFailure(const absl::Status& status, EdgeProbeStats* stats,
                                     EdgePoller* p) {
  ++stats->errors;
  ++p->errors[status.code()];
  if (stats->first_error.empty()) stats->first_error = status.ToString();
  p->hits_in_row = 0;
}

void PropagationRunner::CountAnswer(int edge, int64_t target, bool visible,
                                    Clock::time_point begin, Clock::time_point end,
                                    EdgeProbeStats* stats, EdgePoller* p) {
  p->rtt.Record(Micros(end - begin));
  if (visible) {
    ++stats->hits;
    ++p->hits_in_row;
    tracker_->ObserveVisible(edge, target, Since(end));
  } else {
    p->hits_in_row = 0;
  }
}

void PropagationRunner::FinishStats(const EdgePoller& p, EdgeProbeStats* stats) {
  stats->probe_rtt = p.rtt.Summary();
  for (const auto& [code, n] : p.errors) stats->errors_by_code[absl::StatusCodeToString(code)] = n;
}

std::string PropagationRunner::ProbeKey(int64_t oldest, int64_t answered, int hits_in_row,
                                        int64_t* target) const {
  *target = ChooseProbe(oldest, answered - 1, hits_in_row);
  int64_t key_index = tracker_->KeyIndex(*target);
  while (key_index < 0 && *target > oldest) key_index = tracker_->KeyIndex(--*target);  // failed
  return PropagationKey(run_id_, key_index, writes_);
}

void PropagationRunner::Poll(int edge, EdgeProbeStats* stats) {
  PropagationStore& store = *edges_[static_cast<size_t>(edge)];
  EdgePoller p;
  for (;;) {
    if (absl::ToInt64Nanoseconds(Since(Clock::now())) >= drain_deadline_ns_.load()) break;
    // Read finished() first: once it is true, answered() is final.
    const bool finished = tracker_->finished();
    const int64_t answered = tracker_->answered();
    const int64_t oldest = tracker_->OldestUnseen(edge);
    if (oldest >= answered) {
      if (finished) break;  // every write seen here
      tracker_->AwaitAnswered(oldest, kIdleWait);
      p.hits_in_row = 0;  // start with the write just acknowledged
      continue;
    }
    int64_t target = 0;
    const std::string key = ProbeKey(oldest, answered, p.hits_in_row, &target);
    const Clock::time_point begin = Clock::now();
    absl::StatusOr<bool> visible = store.IsVisible(key);
    const Clock::time_point end = Clock::now();
    ++stats->probes;
    if (!visible.ok()) {
      CountFailure(visible.status(), stats, &p);
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(kProbeErrorBackoff));
      continue;
    }
    CountAnswer(edge, target, *visible, begin, end, stats, &p);
    if (!*visible && options_.poll_interval > absl::ZeroDuration()) {
      std::this_thread::sleep_until(begin + absl::ToChronoNanoseconds(options_.poll_interval));
    }
  }
  FinishStats(p, stats);
}

void PropagationRunner::WriteTrace(std::ostream& out) const {
  if (tracker_ != nullptr) tracker_->WriteCsv(out, warmup_writes_);
}

absl::StatusOr<PropagationResult> PropagationRunner::Run() {
  if (!prepared_) return absl::FailedPreconditionError("Run() before a successful Prepare()");
  if (ran_) return absl::FailedPreconditionError("Run() called twice");
  ran_ = true;

  std::unique_ptr<RssSampler> sampler;
  if (options_.node_pid > 0) {
    absl::StatusOr<std::unique_ptr<RssSampler>> started =
        RssSampler::Start(options_.node_pid, options_.rss_interval);
    if (!started.ok()) {
      return absl::Status(started.status().code(),
                          absl::StrCat("--node-pid: ", started.status().message()));
    }
    sampler = std::move(*started);
  }

  const int edge_count = static_cast<int>(edges_.size());
  tracker_ = std::make_unique<VisibilityTracker>(writes_, edge_count);
  // A little lead so every thread is waiting before write 0 is due.
  start_ = Clock::now() + std::chrono::milliseconds(20);
  const absl::Time wall_start = absl::Now() + absl::FromChrono(start_ - Clock::now());

  const absl::Duration cpu_before = ProcessCpu();
  std::vector<WriterStats> writers(writers_.size());
  writers_left_.store(static_cast<int>(writers_.size()));
  std::vector<EdgeProbeStats> probes(static_cast<size_t>(edge_count));
  std::vector<Clock::time_point> stopped(static_cast<size_t>(edge_count));
  std::vector<std::thread> threads;
  for (int e = 0; e < edge_count; ++e) {
    probes[static_cast<size_t>(e)].endpoint = options_.edges[static_cast<size_t>(e)];
  }
  if (options_.single_poller &&
      std::all_of(edges_.begin(), edges_.end(),
                  [](const std::unique_ptr<PropagationStore>& s) { return s->poll_fd() >= 0; })) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);  // failing, each edge gets a thread
  }
  const bool one_poller = wake_fd_ >= 0;
  if (one_poller) {
    threads.emplace_back([this, &probes, &stopped] { PollAll(&probes, &stopped); });
  } else {
    for (int e = 0; e < edge_count; ++e) {
      threads.emplace_back([this, e, &probes, &stopped] {
        Poll(e, &probes[static_cast<size_t>(e)]);
        stopped[static_cast<size_t>(e)] = Clock::now();
      });
    }
  }
  for (size_t w = 0; w < writers.size(); ++w) {
    threads.emplace_back([this, w, &writers] { Write(static_cast<int>(w), &writers[w]); });
  }
  for (std::thread& t : threads) t.join();
  const absl::Duration cpu_used = ProcessCpu() - cpu_before;
  if (one_poller) {
    close(wake_fd_);
    wake_fd_ = -1;
  }
  WriterStats writer;  // all writers together
  for (WriterStats& w : writers) {
    writer.latency.Merge(w.latency);
    for (const auto& [code, n] : w.errors) writer.errors[code] += n;
    if (writer.first_error.empty()) writer.first_error = w.first_error;
    writer.behind += w.behind;
    writer.issued += w.issued;
    writer.max_behind = std::max(writer.max_behind, w.max_behind);
    writer.finished = std::max(writer.finished, w.finished);
  }

  PropagationResult result;
  result.options = options_;
  result.run_id = run_id_;
  result.start = wall_start;
  result.scheduled_writes = writes_ - warmup_writes_;
  result.unissued_writes = result.scheduled_writes - writer.issued;
  const Clock::time_point measure_start = DueTime(warmup_writes_);
  result.elapsed =
      absl::FromChrono(std::max(Clock::duration::zero(), writer.finished - measure_start));
  for (const auto& [code, n] : writer.errors) {
    result.write_errors += n;
    result.write_errors_by_code[absl::StatusCodeToString(code)] = n;
  }
  result.first_write_error = writer.first_error;
  result.behind_schedule = writer.behind;
  result.max_behind = absl::FromChrono(writer.max_behind);
  result.write_latency = writer.latency.Summary();
  Clock::time_point last_stop = writer.finished;
  for (const Clock::time_point& t : stopped) last_stop = std::max(last_stop, t);
  result.drain = absl::FromChrono(last_stop - writer.finished);
  result.client_cpu = cpu_used;
  result.visibility = tracker_->Summarize(warmup_writes_);
  result.edges = std::move(probes);
  result.one_poller = one_poller;
  if (sampler) result.node_memory = sampler->Stop();
  return result;
}

}  // namespace kv::bench
