#!/usr/bin/env bash
# node-bench.sh: the single-node benchmarks EdgeKV reports.
#
#   BIN_DIR=build/bin scripts/bench/node-bench.sh
#
# Starts a fresh kv-node (ephemeral port, empty temp data dir, metrics off), then runs
# each scenario RUNS times with kv-bench and prints the median of every figure:
#   get       Get of 100-byte values, 16 concurrent clients, 10,000 keys, DURATION s
#   put       durable Put of 100-byte values, 64 concurrent clients, DURATION s
#   list      List pages of 100 keys (of 10,000), 16 concurrent clients, DURATION s
#   put-25MiB 8 concurrent 25 MiB puts (one each), with the node's peak RSS
# Every scenario samples the node's /proc/<pid>/status every 10 ms (--node-pid); "peak RSS"
# is the largest VmRSS sample during that run and "peak anon" the largest RssAnon sample.
# Read "peak anon" as the node's memory use: RssAnon is its own memory (heap, stacks, gRPC
# and LevelDB buffers). VmRSS also counts RssFile, the resident pages of files the node has
# mmapped, which are LevelDB's table files: page cache the kernel shares and reclaims under
# pressure, not memory the node allocated. Large writes inflate it (8 concurrent 25 MiB
# puts: RssAnon ~110 MiB, RssFile ~170 MiB), so peak RSS overstates the node's footprint.
# The two peaks are taken separately, so "peak RSS" need not be anon + file.
# Builds nothing: needs kv-node and kv-bench in BIN_DIR.
#
# Environment: BIN_DIR (default <repo>/build/bin), RUNS (3), DURATION (10 s), WARMUP (2 s),
# RESULTS_DIR (if set, every run's kv-bench JSON is kept there).
# Needs jq. Client and node share this machine's cores, so figures are a lower bound on
# what the node does with a dedicated client.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${BIN_DIR:-$ROOT/build/bin}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
READY_TIMEOUT_S=60

die() { echo "node-bench: $*" >&2; exit 1; }

for bin in kv-node kv-bench; do
  [[ -x "$BIN_DIR/$bin" ]] || die "no $BIN_DIR/$bin: build it first (or set BIN_DIR)"
done
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

WORK="$(mktemp -d -t kv-node-bench.XXXXXX)"
NODE_PID=""

cleanup() {
  local status=$?
  if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null || true
    # kv-node drains in-flight calls and closes LevelDB; give it a bounded time.
    for _ in $(seq 300); do
      kill -0 "$NODE_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$NODE_PID" 2>/dev/null; then
      echo "node-bench: kv-node $NODE_PID did not stop on SIGTERM; killing it" >&2
      kill -KILL "$NODE_PID" 2>/dev/null || true
    fi
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$WORK/node.log" ]]; then
    echo "node-bench: last lines of the node's log:" >&2
    tail -n 20 "$WORK/node.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Start the node and wait until it serves ---
"$BIN_DIR/kv-node" --listen 127.0.0.1:0 --metrics off --ready-file "$WORK/ready.json" \
  --data-dir "$WORK/data" >"$WORK/node.log" 2>&1 &
NODE_PID=$!

deadline=$((SECONDS + READY_TIMEOUT_S))
until [[ -s "$WORK/ready.json" ]]; do
  kill -0 "$NODE_PID" 2>/dev/null || die "kv-node exited before it was ready"
  ((SECONDS < deadline)) || die "kv-node not ready after ${READY_TIMEOUT_S} s"
  sleep 0.05
done
ENDPOINT="$(jq -r .grpc "$WORK/ready.json")"
SERVING_PID="$(jq -r .pid "$WORK/ready.json")"
[[ "$SERVING_PID" == "$NODE_PID" ]] || die "ready file pid $SERVING_PID is not kv-node's $NODE_PID"
echo "node-bench: kv-node pid $NODE_PID serving on $ENDPOINT; $RUNS runs per scenario" >&2

# --- Run the scenarios ---
SCENARIOS=()

# run_scenario NAME KV-BENCH-FLAGS...: runs kv-bench RUNS times, keeping each JSON report.
run_scenario() {
  local name="$1"
  shift
  SCENARIOS+=("$name")
  for i in $(seq "$RUNS"); do
    echo "node-bench: $name run $i/$RUNS" >&2
    local status=0
    "$BIN_DIR/kv-bench" --endpoint "$ENDPOINT" --node-pid "$NODE_PID" --json "$@" \
      >"$WORK/$name.$i.json" || status=$?
    # 3: the run completed but nothing succeeded; its report still counts (as a failure).
    [[ $status -eq 0 || $status -eq 3 ]] || die "kv-bench failed in scenario $name (run $i)"
    # shellcheck disable=SC2016  # jq variables, not shell ones
    jq -r --arg name "$name" --arg i "$i" '
      def mib: if . == null then "-" else . * 10 | round / 10 end;
      "  \($name) run \($i): \(.ops) ok + \(.errors) errors in \(.elapsed_s*100|round/100) s, \(.throughput_ops_per_s|floor) ops/s, p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms, peak RSS \(.node_memory.peak_rss_mib | mib) MiB (anon \(.node_memory.peak_rss_anon_mib | mib), file \(.node_memory.peak_rss_file_mib | mib))"' \
      "$WORK/$name.$i.json" >&2
  done
  if [[ -n "${RESULTS_DIR:-}" ]]; then
    mkdir -p "$RESULTS_DIR"
    cp "$WORK/$name".*.json "$RESULTS_DIR/"
  fi
}

run_scenario get --mode get --value-size 100 --concurrency 16 --keys 10000 \
  --duration "$DURATION" --warmup "$WARMUP" --key-prefix get/
run_scenario put --mode put --value-size 100 --concurrency 64 --keys 10000 \
  --duration "$DURATION" --warmup "$WARMUP" --key-prefix put/
run_scenario list --mode list --list-limit 100 --value-size 100 --concurrency 16 --keys 10000 \
  --duration "$DURATION" --warmup "$WARMUP" --key-prefix list/
run_scenario put-25MiB --mode put --value-size 26214400 --concurrency 8 --requests 8 --keys 8 \
  --key-prefix big/

# --- Summarise: the median of each figure over the runs ---
# Each figure's median is taken on its own, so one row can mix runs (as medians do).
# Latency medians use only runs with at least one successful call ("-" if none had one).
# shellcheck disable=SC2016  # jq variables, not shell ones
MEDIANS='
  def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r(n): . * n | round / n;
  map(select(.latency_ms.count > 0)) as $ok
  | def lat(f): if ($ok | length) == 0 then "-" else ($ok | map(f) | median | r(1000)) end;
  # RssAnon/RssFile medians over the runs that have them (null on kernels before 4.5).
  def mem(f): map(.node_memory | f | select(. != null))
               | if length == 0 then "-" else median | r(10) end;
  [ (map(.throughput_ops_per_s) | median | r(10)),
    (map(.mb_per_s) | median | r(100)),
    lat(.latency_ms.p50), lat(.latency_ms.p90), lat(.latency_ms.p99),
    lat(.latency_ms.p999), lat(.latency_ms.max),
    (map(.errors) | add),
    (map(.node_memory.peak_rss_mib) | median | r(10)),
    mem(.peak_rss_anon_mib), mem(.peak_rss_file_mib),
    (map(.node_memory.vm_hwm_mib) | max | r(10)) ] | @tsv'

# num FORMAT VALUE: prints VALUE with FORMAT, or "-" as is.
# shellcheck disable=SC2059  # the format is the argument
num() { if [[ "$2" == "-" ]]; then printf -- '-'; else printf -- "$1" "$2"; fi; }

echo
echo "EdgeKV single-node benchmark: kv-node on $ENDPOINT, median of $RUNS runs" \
  "(latencies in ms; errors summed over runs)"
row='%-10s %11s %9s %9s %9s %9s %9s %9s %7s %13s %14s %14s\n'
# shellcheck disable=SC2059
printf "$row" scenario ops/s MB/s p50 p90 p99 p99.9 max errors "peak RSS MiB" \
  "peak anon MiB" "peak file MiB"
for name in "${SCENARIOS[@]}"; do
  IFS=$'\t' read -r ops mbs p50 p90 p99 p999 max errors rss anon file hwm < <(
    jq -s -r "$MEDIANS" "$WORK/$name".*.json)
  # shellcheck disable=SC2059
  printf "$row" "$name" "$(num %.1f "$ops")" "$(num %.2f "$mbs")" "$(num %.3f "$p50")" \
    "$(num %.3f "$p90")" "$(num %.3f "$p99")" "$(num %.3f "$p999")" "$(num %.3f "$max")" \
    "$errors" "$(num %.1f "$rss")" "$(num %.1f "$anon")" "$(num %.1f "$file")"
done
echo "node VmHWM (lifetime peak RSS) after all runs: ${hwm} MiB"
echo "peak anon = RssAnon, the node's own memory; peak file = RssFile, LevelDB's mmapped" \
  "table files (page cache, reclaimable); peak RSS (VmRSS) counts both."
for name in "${SCENARIOS[@]}"; do
  jq -s -r --arg name "$name" '
    (map(.errors_by_code | to_entries[]) | group_by(.key)
      | map("\(.[0].key)=\(map(.value) | add)") | join(" ")) as $codes
    | (map(.first_error | select(. != "")) | first // "") as $first
    | if $codes != "" then "ERRORS in \($name): \($codes); e.g. \($first)" else empty end' \
    "$WORK/$name".*.json
done
echo "scenarios: get/list 100-byte values, 16 clients, 10,000 keys (list limit 100);" \
  "put 100-byte durable writes, 64 clients; put-25MiB 8 concurrent 25 MiB puts;" \
  "${DURATION} s each after ${WARMUP} s warmup (put-25MiB: 8 requests, no warmup)."
