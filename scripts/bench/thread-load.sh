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
# context switches (.../status); then each process's totals and the window's length.
# Divide by the writes made in the window for per-write figures. Snapshots use shell
# builtins only, so taking them does not load the machine it measures.

set -euo pipefail

die() { echo "thread-load: error: $*" >&2; exit 2; }

[[ $# -ge 2 ]] || die "usage: $0 SECONDS PID..."
[[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SECONDS must be a number, not '$1'"
seconds="$1"
shift
for pid in "$@"; do
  [[ "$pid" =~ ^[0-9]+$ && -d "/proc/$pid" ]] || die "no process $pid"
done
CLK_TCK="$(getconf CLK_TCK)"

# snapshot PID...: prints "time T", then "pid tid name cpu_ticks voluntary involuntary"
# per thread. A thread that ends meanwhile is skipped.
snapshot() {
  local pid task stat line name voluntary involuntary
  local -a fields
  echo "time $EPOCHREALTIME"
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*; do
      { read -r stat <"$task/stat" && read -r name <"$task/comm"; } 2>/dev/null || continue
      # Fields after "pid (name) ": state is fields[0], utime [11], stime [12].
      read -r -a fields <<<"${stat##*) }"
      voluntary=0 involuntary=0
      while read -r line; do
        case "$line" in
          voluntary_ctxt_switches:*) voluntary="${line##*[[:space:]]}" ;;
          nonvoluntary_ctxt_switches:*) involuntary="${line##*[[:space:]]}" ;;
        esac
      done <"$task/status" 2>/dev/null || continue
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
  ($1 " " $2) in base {
    split(base[$1 " " $2], b, " ")
    cpu = ($4 - b[1]) / hz; vol = $5 - b[2]; inv = $6 - b[3]
    pcpu[$1] += cpu; pvol[$1] += vol; pinv[$1] += inv
    if (cpu > 0 || vol + inv > 0) {
      printf "%8s %8s %-16s %8.2f s CPU %9d voluntary %9d involuntary\n", $1, $2, $3, cpu, vol, inv
    }
  }
  END {
    for (p in pcpu) {
      printf "%8s %8s %-16s %8.2f s CPU %9d voluntary %9d involuntary\n", p, "all", "(process)",
        pcpu[p], pvol[p], pinv[p]
    }
    printf "window %.2f s\n", t1 - t0
  }' <(echo "$before") <(echo "$after")
