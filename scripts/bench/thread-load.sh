#!/usr/bin/env bash
# thread-load.sh: CPU time and context switches of running processes, per thread, over a
# window: where a node's CPU goes and how often each thread sleeps and wakes.
#
#   scripts/bench/thread-load.sh SECONDS PID...
#   scripts/bench/thread-load.sh 15 $(pgrep -x kv-node)      # during a propagation run
#   scripts/bench/thread-load.sh 15 $(pgrep -x redis-server)
#
# Prints, for each thread that used CPU or switched during the window, its pid, tid, name,
# CPU seconds (user + system, /proc/<pid>/task/<tid>/stat) and voluntary and involuntary
# context switches (.../status; a thread started meanwhile counts from zero, one that
# ended is left out); then each process's CPU seconds from /proc/<pid>/stat (exited
# threads included) and the window's length. Divide by the writes made in the window for
# per-write figures. Snapshots use shell builtins only, so taking them does not load the
# machine it measures.

set -euo pipefail
export LC_ALL=C  # $EPOCHREALTIME with a decimal point

die() { echo "thread-load: error: $*" >&2; exit 2; }

[[ $# -ge 2 ]] || die "usage: $0 SECONDS PID..."
[[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SECONDS must be a number, not '$1'"
seconds="$1"
shift
for pid in "$@"; do
  [[ "$pid" =~ ^[0-9]+$ && -d "/proc/$pid" ]] || die "no process $pid"
done
CLK_TCK="$(getconf CLK_TCK)"

# snapshot PID...: prints "time T", then per process "pid all (process) cpu_ticks 0 0"
# and per thread "pid tid name cpu_ticks voluntary involuntary". A thread or process that
# ends meanwhile is skipped.
snapshot() {
  local pid task stat line name voluntary involuntary
  local -a fields
  echo "time $EPOCHREALTIME"
  for pid in "$@"; do
    # Fields after "pid (name) ": state is fields[0], utime [11], stime [12].
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || continue
    read -r -a fields <<<"${stat##*) }"
    echo "$pid all (process) $((fields[11] + fields[12])) 0 0"
    for task in /proc/"$pid"/task/*; do
      { read -r stat <"$task/stat" && read -r name <"$task/comm"; } 2>/dev/null || continue
      read -r -a fields <<<"${stat##*) }"
      voluntary=0 involuntary=0
      {
        while read -r line; do
          case "$line" in
            voluntary_ctxt_switches:*) voluntary="${line##*[[:space:]]}" ;;
            nonvoluntary_ctxt_switches:*) involuntary="${line##*[[:space:]]}" ;;
          esac
        done <"$task/status"
      } 2>/dev/null || continue
      echo "$pid ${task##*/} ${name// /_} $((fields[11] + fields[12])) $voluntary $involuntary"
    done
  done
}

before="$(snapshot "$@")"
sleep "$seconds"
after="$(snapshot "$@")"

awk -v hz="$CLK_TCK" '
  $1 == "time" { if (FNR == NR) t0 = $2; else t1 = $2; next }
  FNR == NR { base[$1 " " $2] = $4 " " $5 " " $6; next }
  $2 == "all" {
    if (!(($1 " all") in base)) next
    split(base[$1 " all"], b, " ")
    total[$1] = ($4 - b[1]) / hz; vol[$1] += 0; inv[$1] += 0
    next
  }
  {
    split(($1 " " $2) in base ? base[$1 " " $2] : "0 0 0", b, " ")
    cpu = ($4 - b[1]) / hz; v = $5 - b[2]; i = $6 - b[3]
    vol[$1] += v; inv[$1] += i
    if (cpu > 0 || v + i > 0) {
      printf "%8s %8s %-16s %8.2f s CPU %9d voluntary %9d involuntary\n", $1, $2, $3, cpu, v, i
    }
  }
  END {
    for (p in total) {
      printf "%8s %8s %-16s %8.2f s CPU %9d voluntary %9d involuntary\n", p, "all", "(process)",
        total[p], vol[p], inv[p]
    }
    printf "window %.2f s\n", t1 - t0
  }' <(echo "$before") <(echo "$after")

for pid in "$@"; do
  [[ -d "/proc/$pid" ]] || echo "thread-load: process $pid ended during the window" >&2
done
