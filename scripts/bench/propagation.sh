#!/usr/bin/env bash
# propagation.sh: how long an EdgeKV write takes to reach every edge, against Redis.
#
#   BIN_DIR=build/bin scripts/bench/propagation.sh
#   DURATION=5 CATCHUP_SECONDS=10 RUNS=1 scripts/bench/propagation.sh   # a quick check
#
# Sections (each measurement runs `kv-bench --mode propagation`, see kv-bench --help):
#   a) LAN: cluster-configs/local-1+8.yaml (origin + 8 edges) with the latency model off,
#      on free ports in a temp dir, against Redis 7 on loopback (a master and 8 replicas
#      without persistence); RATE writes/s for DURATION s, RUNS rounds. Each round makes
#      three runs in a row: EdgeKV over its RESP ports (KV.PUT on the origin's, HGET on the
#      edges', as kv-bench uses Redis: SET on the master, GET on the replicas), Redis, and
#      EdgeKV over gRPC (kv.v1.KV/Put and Get, the SDK's API). Interleaving spreads a
#      shared machine's noisy stretches over all three.
#   a2) (COMPARE_GRPC=1) the LAN cluster again with its edges following over gRPC.
#   c) The same config with its three-region latency model on (as shipped); the p99
#      next to the config's largest modelled one-way origin -> edge path.
#   d) Catch-up: on the LAN cluster, stop one edge (SIGTERM), write RATE/s for
#      CATCHUP_SECONDS to the others, restart it and time until its
#      kv_storage_applied_sequence equals the origin's.
#   e) Origin memory while one edge is frozen (SIGSTOP): the origin's RssAnon before and
#      after CATCHUP_SECONDS of RATE writes/s, and its peak; then SIGCONT and time the
#      edge's catch-up.
# Each figure is the median over RUNS runs (d and e run once). Every run also prints the
# share of this VM's CPU time the hypervisor stole while it ran (/proc/stat): on a shared
# host that, more than anything measured here, moves the tails of both systems. Every process it starts is
# stopped by pid on exit, and the temp dir removed. It builds nothing.
#
# Environment: BIN_DIR (default <repo>/build/bin: kv-node, kv-bench), RUNS (3), DURATION
# (30 s), RATE (1000), WRITERS (16: EdgeKV writers, each with one durable put in flight;
# Redis answers in ~0.1 ms and keeps one), CATCHUP_SECONDS (60; d and e), DRAIN (30 s:
# kv-bench --drain),
# POLL_INTERVAL_US (0: kv-bench --poll-interval-us; raise it to take fewer reads from the
# edges at the cost of resolution), POLLERS (one: kv-bench --pollers, one thread polls
# every edge; per-edge: a thread per edge, as before 2026-11-29), REDIS_FSYNC (no: Redis
# persists nothing, the reference the targets name; always: the master appends every
# write to its AOF and fsyncs it before answering, durable as EdgeKV's origin; the
# replicas persist nothing either way),
# EDGE_READS (resp: how kv-bench reads the edges in a, a2, c, d and e; grpc reads them
# with kv.v1.KV/Get and skips a's third run), WRITES (resp: where EDGE_READS is resp,
# kv-bench writes with KV.PUT on the origin's RESP port; grpc: kv.v1.KV/Put always), COMPARE_GRPC (0; 1 adds section a2: the LAN cluster again with
# replication.stream_transport: grpc, the same measurement, printed beside a),
# CONFIG (<repo>/cluster-configs/local-1+8.yaml), NODE_ARGS (more kv-node flags for every
# node, e.g. "--get-threads 2"), COMPARE_ARGS (kv-node flags to compare: section a
# starts a second LAN cluster whose nodes also get them, and measures it in every round
# beside the first, alternating which goes first; the idle cluster costs the other only
# its heartbeats and gossip), COMPARE_BIN_DIR (a directory holding another build's
# kv-node: the second cluster runs it, to compare two builds the same way; with or
# without COMPARE_ARGS), GRPC_RUNS (1; 0 drops section a's gRPC run), SECTIONS
# ("a c d e": which to run; a always), RESULTS_DIR (if set, every kv-bench JSON
# is kept there, with its per-write --trace-csv beside it, and each node's LevelDB LOG in
# leveldb/), TMPDIR (where the temp dir
# goes: node data included, so fsync cost is that file system's; TMPDIR=/dev/shm takes
# the disk out of the measurement).
# Needs jq, redis-server and redis-cli (installed with apt-get when run as root), and curl
# (or bash's /dev/tcp) for the nodes' /metrics. Nodes and kv-bench share this machine's
# cores: on a small machine the figures include CPU contention (each section prints the
# CPU seconds the nodes and kv-bench used).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${BIN_DIR:-$ROOT/build/bin}"
CONFIG="${CONFIG:-$ROOT/cluster-configs/local-1+8.yaml}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-30}"
RATE="${RATE:-1000}"
WRITERS="${WRITERS:-16}"
CATCHUP_SECONDS="${CATCHUP_SECONDS:-60}"
DRAIN="${DRAIN:-30}"
POLL_INTERVAL_US="${POLL_INTERVAL_US:-0}"
POLLERS="${POLLERS:-one}"
REDIS_FSYNC="${REDIS_FSYNC:-no}"
EDGE_READS="${EDGE_READS:-resp}"
GRPC_RUNS="${GRPC_RUNS:-1}"
COMPARE_ARGS="${COMPARE_ARGS:-}"
COMPARE_BIN_DIR="${COMPARE_BIN_DIR:-}"
# What the second cluster of section a differs by, for its labels ("" = no second cluster).
COMPARE_LABEL="$COMPARE_ARGS"
if [[ -n "$COMPARE_BIN_DIR" ]]; then
  [[ -x "$COMPARE_BIN_DIR/kv-node" ]] || { echo "propagation.sh: no kv-node in COMPARE_BIN_DIR=$COMPARE_BIN_DIR" >&2; exit 2; }
  COMPARE_LABEL="kv-node of $COMPARE_BIN_DIR${COMPARE_ARGS:+ $COMPARE_ARGS}"
fi
SECTIONS="${SECTIONS:-a c d e}"
WRITES="${WRITES:-resp}"
READY_TIMEOUT_S=60       # a node or Redis instance must serve within this
STOP_TIMEOUT_S=20        # SIGTERM -> SIGKILL
CATCHUP_TIMEOUT_S=600    # an edge must catch up within this

log() { echo "propagation: $*" >&2; }
die() { echo "propagation: error: $*" >&2; exit 1; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ "$EDGE_READS" == resp || "$EDGE_READS" == grpc ]] || die "EDGE_READS must be resp or grpc"
[[ "$POLLERS" == one || "$POLLERS" == per-edge ]] || die "POLLERS must be one or per-edge"
[[ "$REDIS_FSYNC" == no || "$REDIS_FSYNC" == always ]] || die "REDIS_FSYNC must be no or always"
[[ "$WRITES" == resp || "$WRITES" == grpc ]] || die "WRITES must be resp or grpc"
[[ "$GRPC_RUNS" == 0 || "$GRPC_RUNS" == 1 ]] || die "GRPC_RUNS must be 0 or 1"
[[ " $SECTIONS " == *" a "* ]] || die "SECTIONS must include a (the others use its cluster)"
for v in $SECTIONS; do [[ "$v" =~ ^(a|c|d|e)$ ]] || die "SECTIONS: unknown section $v"; done
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
# Section a's third run (gRPC Put and Get) needs RESP reads for its first.
grpc_round() { [[ "$EDGE_READS" == resp && "$GRPC_RUNS" == 1 ]]; }
for v in DURATION RATE WRITERS CATCHUP_SECONDS DRAIN POLL_INTERVAL_US; do
  [[ "${!v}" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$v must be a number"
done
for bin in kv-node kv-bench; do
  [[ -x "$BIN_DIR/$bin" ]] || die "no $BIN_DIR/$bin: build it first (or set BIN_DIR)"
done
[[ -f "$CONFIG" ]] || die "no cluster config $CONFIG"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  if [[ "$(id -u)" -eq 0 ]]; then
    log "installing redis-server (Debian's Redis 7)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  else
    die "redis-server and redis-cli are required: run 'sudo apt-get install redis-server'" \
      "(or run this script as root)"
  fi
fi
HAVE_CURL=0
command -v curl >/dev/null && HAVE_CURL=1
CLK_TCK="$(getconf CLK_TCK)"

WORK="$(mktemp -d -t kv-propagation.XXXXXX)"
ALL_PIDS=()  # every process started, for the exit trap

# Stops `pids` (SIGCONT first, in case one is frozen; SIGTERM; SIGKILL after
# STOP_TIMEOUT_S) and waits for them.
stop_pids() {
  local pid left deadline=$((SECONDS + STOP_TIMEOUT_S))
  for pid in "$@"; do
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  left=()
  for pid in "${ALL_PIDS[@]}"; do
    [[ " $* " == *" $pid "* ]] || left+=("$pid")
  done
  ALL_PIDS=("${left[@]+"${left[@]}"}")
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#ALL_PIDS[@]} > 0)); then
    log "stopping ${#ALL_PIDS[@]} processes"
    stop_pids "${ALL_PIDS[@]}"
  fi
  local f
  if [[ -n "${RESULTS_DIR:-}" ]]; then
    # LevelDB's own log of each node (flushes and compactions, with times), to line up
    # with the traces (kv-bench's start_unix_s).
    mkdir -p "$RESULTS_DIR/leveldb"
    for f in "$WORK"/*/data/*/LOG "$WORK"/*/data/*/LOG.old; do
      [[ -f "$f" ]] || continue
      local rel="${f#"$WORK"/}"
      cp "$f" "$RESULTS_DIR/leveldb/${rel//\//-}" || true
    done
  fi
  if [[ $status -ne 0 ]]; then
    for f in "$WORK"/*/*.log; do
      [[ -s "$f" ]] || continue
      echo "--- last lines of $f:" >&2
      tail -n 5 "$f" >&2 || true
    done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Helpers -----------------------------------------------------------------------------

# Prints " port port ... " for every TCP port something listens on (/proc/net/tcp{,6}).
listening_ports() {
  local local_address st out=" "
  while read -r _ local_address _ st _; do
    [[ "$st" == 0A ]] && out+="$((16#${local_address##*:})) "
  done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  echo "$out"
}

USED_PORTS=" "
FREE_PORTS=()
# Sets FREE_PORTS to N ports nothing listens on and not handed out before, from a random
# base outside the kernel's ephemeral range, below it (or above it if it starts low): an
# outgoing connection or a listener on port 0 cannot take one of them before its node
# starts. (A global, not output: a $(...) subshell could not record USED_PORTS.)
free_ports() {
  local n="$1" taken port tries=0 low=20000 high=32768 eph_low=32768 eph_high=60999
  { read -r eph_low eph_high </proc/sys/net/ipv4/ip_local_port_range; } 2>/dev/null || true
  if ((eph_low > low + 1000)); then
    high=$eph_low
  else  # the ephemeral range starts low: take ports above it
    low=$((eph_high + 1)) high=65535
    ((high > low + 1000)) || die "no ports outside the ephemeral range $eph_low-$eph_high"
  fi
  taken="$(listening_ports)"
  port=$((low + RANDOM % (high - low)))
  FREE_PORTS=()
  while ((${#FREE_PORTS[@]} < n)); do
    ((tries++ < 20000)) || die "no $n free ports found"
    port=$((port + 1))
    ((port < high)) || port=$low
    [[ "$taken" == *" $port "* || "$USED_PORTS" == *" $port "* ]] && continue
    FREE_PORTS+=("$port")
    USED_PORTS+="$port "
  done
}

# make_config lan|lan-grpc|wan OUT: writes a copy of CONFIG with every grpc/metrics/resp
# address on a free port; "lan" turns the latency model off; "lan-grpc" also has the
# edges follow the origin over gRPC Subscribe instead of the TCP stream.
make_config() {
  local mode="$1" out="$2"
  # A grpc, metrics and resp port per node, and one for each node's replication stream.
  free_ports "$(($(grep -cE '^[[:space:]]+(grpc|metrics|resp):' "$CONFIG") + $(grep -cE '^[[:space:]]+grpc:' "$CONFIG")))"
  awk -v lan="$([[ "$mode" == lan* ]] && echo 1 || echo 0)" \
    -v grpc="$([[ "$mode" == lan-grpc ]] && echo 1 || echo 0)" -v ports="${FREE_PORTS[*]}" '
    BEGIN { split(ports, p, " "); i = 0 }
    /^[[:space:]]+stream_transport:/ { next }
    /^[^[:space:]#]/ { in_latency = ($0 ~ /^latency:/) }
    grpc && /^replication:/ { print; print "  stream_transport: grpc"; next }
    in_latency && lan && /^[[:space:]]+enabled:/ { sub(/enabled:.*/, "enabled: false") }
    /^[[:space:]]+stream_port:/ { next }
    /^[[:space:]]+(grpc|metrics|resp):/ { i++; sub(/[0-9.]+:[0-9]+/, "127.0.0.1:" p[i]) }
    /^[[:space:]]+grpc:/ {
      print; indent = $0; sub(/grpc:.*/, "", indent); i++; print indent "stream_port: " p[i]; next
    }
    { print }' "$CONFIG" >"$out"
}

# Cluster state, per cluster name: ids, roles, regions, grpc and metrics addresses, pids.
declare -A NODE_PID NODE_GRPC NODE_METRICS NODE_RESP NODE_ROLE NODE_REGION CLUSTER_IDS CLUSTER_CFG

# start_node CLUSTER ID: starts one node of CLUSTER (config and data under $WORK/CLUSTER).
start_node() {
  local c="$1" id="$2" dir="$WORK/$1"
  rm -f "$dir/$id.ready"
  local extra=()
  read -r -a extra <<<"${NODE_ARGS:-}"
  "${NODE_BIN_DIR:-$BIN_DIR}/kv-node" --config "${CLUSTER_CFG[$c]}" --node-id "$id" --data-root "$dir/data" \
    --ready-file "$dir/$id.ready" "${extra[@]+"${extra[@]}"}" >>"$dir/$id.log" 2>&1 </dev/null &
  NODE_PID[$c/$id]=$!
  ALL_PIDS+=("$!")
}

# wait_ready CLUSTER ID: waits until the node wrote its ready file (bounded).
wait_ready() {
  local c="$1" id="$2" deadline=$((SECONDS + READY_TIMEOUT_S))
  until [[ -s "$WORK/$c/$id.ready" ]]; do
    kill -0 "${NODE_PID[$c/$id]}" 2>/dev/null || die "node $c/$id exited before it was ready"
    ((SECONDS < deadline)) || die "node $c/$id not ready after ${READY_TIMEOUT_S} s"
    sleep 0.02
  done
}

# wait_following CLUSTER ID: waits (bounded) until edge ID has received its first batch
# from the origin (kv_replication_connected_to_origin 1). Edges start beside the origin and
# may retry its stream once or twice; waiting here keeps those retries out of a run.
wait_following() {
  local c="$1" id="$2" deadline=$((SECONDS + READY_TIMEOUT_S))
  until scrape "${NODE_METRICS[$c/$id]}" | grep -q '^kv_replication_connected_to_origin 1'; do
    kill -0 "${NODE_PID[$c/$id]}" 2>/dev/null || die "node $c/$id exited before it followed"
    ((SECONDS < deadline)) || die "edge $c/$id not following the origin after ${READY_TIMEOUT_S} s"
    sleep 0.05
  done
}

# start_cluster NAME lan|wan: writes NAME's config, starts every node, waits for all to
# serve and every edge to follow the origin.
start_cluster() {
  local c="$1" dir="$WORK/$1" id role region grpc metrics resp
  mkdir -p "$dir/data"
  make_config "$2" "$dir/config.yaml"
  CLUSTER_CFG[$c]="$dir/config.yaml"
  CLUSTER_IDS[$c]=""
  while read -r id role region grpc metrics _ resp; do
    CLUSTER_IDS[$c]+="$id "
    NODE_ROLE[$c/$id]="$role"
    NODE_REGION[$c/$id]="$region"
    NODE_GRPC[$c/$id]="$grpc"
    NODE_METRICS[$c/$id]="$metrics"
    NODE_RESP[$c/$id]="$resp"
    if [[ "$role" == edge && "$EDGE_READS" == resp && "$resp" == - ]]; then
      die "edge $id of $CONFIG has no resp address (set one, or EDGE_READS=grpc)"
    fi
    if [[ "$role" == origin && "$EDGE_READS" == resp && "$WRITES" == resp && "$resp" == - ]]; then
      die "the origin of $CONFIG has no resp address (set one, or WRITES=grpc)"
    fi
  done < <("$BIN_DIR/kv-node" --config "$dir/config.yaml" --list-nodes)
  for id in ${CLUSTER_IDS[$c]}; do start_node "$c" "$id"; done
  for id in ${CLUSTER_IDS[$c]}; do wait_ready "$c" "$id"; done
  for id in $(role_ids "$c" edge); do wait_following "$c" "$id"; done
  log "cluster $c: $(wc -w <<<"${CLUSTER_IDS[$c]}") nodes serving, edges following (config $dir/config.yaml)"
}

# stop_cluster NAME: stops every node of cluster NAME.
stop_cluster() {
  local id pids=()
  for id in ${CLUSTER_IDS[$1]}; do pids+=("${NODE_PID[$1/$id]}"); done
  stop_pids "${pids[@]}"
}

# edge_addrs CLUSTER resp|grpc: prints the addresses kv-bench polls CLUSTER's edges on.
edge_addrs() {
  local id out=""
  for id in $(role_ids "$1" edge); do
    if [[ "$2" == resp ]]; then out+="${NODE_RESP[$1/$id]} "; else out+="${NODE_GRPC[$1/$id]} "; fi
  done
  echo "$out"
}

# write_flags CLUSTER READS: prints kv-bench's flags for how it writes to CLUSTER's origin:
# KV.PUT on its RESP port when READS (how the edges are read) and WRITES are resp, else
# nothing (kv.v1.KV/Put).
write_flags() {
  local id
  [[ "$2" == resp && "$WRITES" == resp ]] || return 0
  for id in $(role_ids "$1" origin); do echo "--origin-resp ${NODE_RESP[$1/$id]}"; done
}

# role_ids CLUSTER ROLE: prints the ids of CLUSTER's nodes with ROLE (origin, edge).
role_ids() {
  local id
  for id in ${CLUSTER_IDS[$1]}; do
    if [[ "${NODE_ROLE[$1/$id]}" == "$2" ]]; then echo "$id"; fi
  done
}

# scrape ADDRESS: prints a node's /metrics text (nothing if it does not answer).
scrape() {
  if ((HAVE_CURL)); then
    curl -s --max-time 2 "http://$1/metrics" || true
  else
    (exec 3<>"/dev/tcp/${1%:*}/${1##*:}" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 &&
      timeout 2 cat <&3) 2>/dev/null || true
  fi
}

# applied_seq ADDRESS: prints the node's kv_storage_applied_sequence, or -1.
applied_seq() {
  scrape "$1" | awk '$1 == "kv_storage_applied_sequence" { printf "%.0f", $2; f = 1 }
                     END { if (!f) print -1 }'
}

# snapshot FILE CLUSTER IDS...: appends "id metric value" for the metrics used below,
# plus "id cpu_ticks N" from /proc. (Appending: a measurement made of several runs sums
# each run's after - before, see delta.)
snapshot() {
  local file="$1" c="$2" id pid
  shift 2
  for id in "$@"; do
    scrape "${NODE_METRICS[$c/$id]}" | awk -v id="$id" '
      /^kv_(storage_commit_write_seconds|replication_lag_seconds)_(sum|count) / ||
      /^kv_rpc_duration_seconds_(sum|count)\{code="OK",method="(Get|Put)"\} / ||
      /^kv_replication_reconnects_total / { print id, $1, $2 }' >>"$file"
    pid="${NODE_PID[$c/$id]}"
    awk -v id="$id" '{ sub(/.*\) /, ""); split($0, f, " "); print id, "cpu_ticks", f[12] + f[13] }' \
      "/proc/$pid/stat" >>"$file" 2>/dev/null || true
  done
}

# delta BEFORE AFTER METRIC IDS...: prints the increase of METRIC summed over IDS.
delta() {
  local before="$1" after="$2" metric="$3"
  shift 3
  awk -v m="$metric" -v ids=" $* " '
    FNR == NR && $2 == m && index(ids, " " $1 " ") { b += $3 }
    FNR != NR && $2 == m && index(ids, " " $1 " ") { a += $3 }
    END { printf "%.9g", a - b }' "$before" "$after"
}

# ratio_ms A B: prints 1000 * A / B with 3 decimals, or "-" when B is 0.
ratio_ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", 1000 * a / b; else print "-" }'; }

# where_time_goes BEFORE AFTER ORIGIN "EDGE IDS" ELAPSED_S BENCH_CPU_S: prints the nodes'
# own account of the runs: commit (fsync) and RPC times, apply lag, CPU.
where_time_goes() {
  local b="$1" a="$2" origin="$3" edges="$4" elapsed="$5" bench_cpu="$6"
  local ocommit oput elag ecommit eget ocpu ecpu reconnects
  ocommit="$(ratio_ms "$(delta "$b" "$a" kv_storage_commit_write_seconds_sum "$origin")" \
    "$(delta "$b" "$a" kv_storage_commit_write_seconds_count "$origin")")"
  oput="$(ratio_ms "$(delta "$b" "$a" 'kv_rpc_duration_seconds_sum{code="OK",method="Put"}' "$origin")" \
    "$(delta "$b" "$a" 'kv_rpc_duration_seconds_count{code="OK",method="Put"}' "$origin")")"
  # shellcheck disable=SC2086  # word-splitting the id lists is intended
  elag="$(ratio_ms "$(delta "$b" "$a" kv_replication_lag_seconds_sum $edges)" \
    "$(delta "$b" "$a" kv_replication_lag_seconds_count $edges)")"
  # shellcheck disable=SC2086
  ecommit="$(ratio_ms "$(delta "$b" "$a" kv_storage_commit_write_seconds_sum $edges)" \
    "$(delta "$b" "$a" kv_storage_commit_write_seconds_count $edges)")"
  # shellcheck disable=SC2086
  eget="$(ratio_ms "$(delta "$b" "$a" 'kv_rpc_duration_seconds_sum{code="OK",method="Get"}' $edges)" \
    "$(delta "$b" "$a" 'kv_rpc_duration_seconds_count{code="OK",method="Get"}' $edges)")"
  ocpu="$(awk -v t="$(delta "$b" "$a" cpu_ticks "$origin")" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz }')"
  # shellcheck disable=SC2086
  ecpu="$(awk -v t="$(delta "$b" "$a" cpu_ticks $edges)" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz }')"
  # shellcheck disable=SC2086
  reconnects="$(delta "$b" "$a" kv_replication_reconnects_total $edges)"
  echo "  nodes' metrics (means over the run): origin synced commit $ocommit ms, origin Put" \
    "handler $oput ms; edges: commit -> applied lag $elag ms (HLC, ms resolution), synced" \
    "apply commit $ecommit ms, Get handler $eget ms; stream reconnects $reconnects"
  echo "  CPU over ${elapsed} s: origin ${ocpu} s, edges ${ecpu} s, kv-bench ${bench_cpu} s" \
    "($(nproc) cores)"
}

# bench OUT.json ORIGIN_ADDR "EDGE ADDRS" SECONDS [KV-BENCH FLAGS...]: runs one
# propagation measurement; keeps the JSON. Exit 4 (writes never seen) is reported, not
# fatal.
bench() {
  local out="$1" origin="$2" edges="$3" seconds="$4" status=0 trace=()
  shift 4
  if [[ -n "${RESULTS_DIR:-}" ]]; then
    mkdir -p "$RESULTS_DIR"
    trace=(--trace-csv "$RESULTS_DIR/$(basename "$out" .json).csv")
  fi
  "$BIN_DIR/kv-bench" --mode propagation --endpoint "$origin" --edges "${edges// /,}" \
    --rate "$RATE" --duration "$seconds" --drain "$DRAIN" --poll-interval-us "$POLL_INTERVAL_US" \
    --pollers "$POLLERS" \
    --json "${trace[@]}" "$@" >"$out" || status=$?
  [[ $status -eq 0 || $status -eq 3 || $status -eq 4 ]] || die "kv-bench failed (exit $status)"
  if [[ -n "${RESULTS_DIR:-}" ]]; then cp "$out" "$RESULTS_DIR/"; fi
}

# One line per run.
# shellcheck disable=SC2016  # jq variables, not shell ones
RUN_LINE='def r(n): . * n | round / n;
  "  run \($run): \(.acknowledged_writes) writes acknowledged, \(.achieved_rate | r(10))/s" +
  " (\(.behind_schedule) started >1 ms late, \(.unissued_writes) not issued, \(.write_errors) failed);" +
  " write p50 \(.write_latency_ms.p50) ms; visible on ALL edges p50 \(.visible_on_all_ms.p50)" +
  " p90 \(.visible_on_all_ms.p90) p99 \(.visible_on_all_ms.p99) max \(.visible_on_all_ms.max) ms;" +
  " per edge p50 \(.all_edges_ms.p50) p99 \(.all_edges_ms.p99) ms; read round trip p50" +
  " \(.per_edge | map(.probe_rtt_ms.p50) | sort | .[length / 2 | floor]) ms," +
  " \((.per_edge | map(.probes) | add) / ([.acknowledged_writes * (.per_edge | length), 1] | max)
     | r(10)) reads per write and edge;" +
  " never seen \(.never_seen); drain \(.drain_s | r(1000)) s"'

# Medians over runs: visible-on-all p50 p90 p99 max, per-edge p50 p99, achieved rate,
# never seen (summed), read round trip p50.
# shellcheck disable=SC2016
MEDIANS='def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                          else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r(n): . * n | round / n;
  def lat(f): map(select(.visible_on_all_ms.count > 0) | f) | if length == 0 then "-" else median | r(1000) end;
  [ lat(.visible_on_all_ms.p50), lat(.visible_on_all_ms.p90), lat(.visible_on_all_ms.p99),
    lat(.visible_on_all_ms.max), lat(.all_edges_ms.p50), lat(.all_edges_ms.p99),
    (map(.achieved_rate) | median | r(10)), (map(.never_seen) | add),
    (map(.per_edge | map(.probe_rtt_ms.p50) | median) | median | r(1000)) ] | @tsv'

# cpu_times: prints the machine's total and steal time in ticks (/proc/stat's cpu line:
# user nice system idle iowait irq softirq steal; guest time is inside user and nice).
cpu_times() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9; exit }' /proc/stat
}

# steal_pct "TOTAL STEAL" "TOTAL STEAL": prints the steal share between two cpu_times, in %
# with one decimal: time the host ran something else while this VM's CPUs wanted to run.
# On a shared VM it is what moves a run's tail the most, so every run prints it.
steal_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    printf "%.1f", (y[1] > x[1]) ? 100 * (y[2] - x[2]) / (y[1] - x[1]) : 0 }'
}

# measure_run NAME RUN ORIGIN_ADDR "EDGE ADDRS" [CLUSTER ORIGIN_ID "EDGE IDS"]: makes run
# RUN of measurement NAME and prints its line; for an EdgeKV cluster, records the nodes'
# metrics before and after it. MEASURE_READS overrides EDGE_READS.
declare -A MEASURED_S
measure_run() {
  local name="$1" i="$2" origin="$3" edges="$4" c="${5:-}" oid="${6:-}" eids="${7:-}" t0
  local cpu_before
  local reads="${MEASURE_READS:-$EDGE_READS}"
  local extra=(--writers "$WRITERS" --edge-reads "$reads")
  # shellcheck disable=SC2207  # the flags are words without spaces
  [[ -n "$c" ]] && extra+=($(write_flags "$c" "$reads"))
  [[ "$name" == redis* ]] && extra=(--backend redis)  # one writer: Redis reports no order
  # shellcheck disable=SC2086  # word-splitting the id list is intended
  [[ -n "$c" ]] && snapshot "$WORK/$name.before" "$c" "$oid" $eids
  t0=$SECONDS
  log "$name: run $i/$RUNS (${DURATION} s at ${RATE} writes/s)"
  cpu_before="$(cpu_times)"
  bench "$WORK/$name.$i.json" "$origin" "$edges" "$DURATION" "${extra[@]}"
  steal_pct "$cpu_before" "$(cpu_times)" >"$WORK/$name.$i.steal"
  jq -r --arg run "$name $i/$RUNS" "$RUN_LINE" "$WORK/$name.$i.json"
  echo "    host: $(cat "$WORK/$name.$i.steal")% of this VM's CPU time was stolen by the hypervisor"
  MEASURED_S[$name]=$((${MEASURED_S[$name]:-0} + SECONDS - t0))
  # shellcheck disable=SC2086
  [[ -n "$c" ]] && snapshot "$WORK/$name.after" "$c" "$oid" $eids
  return 0
}

# measure_report NAME [CLUSTER ORIGIN_ID "EDGE IDS"]: the nodes' metrics (EdgeKV) or
# kv-bench's CPU (Redis) over NAME's runs.
measure_report() {
  local name="$1" c="${2:-}" oid="${3:-}" eids="${4:-}" cpu
  cpu="$(jq -s 'map(.client_cpu_s) | add * 10 | round / 10' "$WORK/$name".*.json)"
  if [[ -n "$c" ]]; then
    where_time_goes "$WORK/$name.before" "$WORK/$name.after" "$oid" "$eids" \
      "${MEASURED_S[$name]}" "$cpu"
  else
    echo "  kv-bench CPU: $cpu s over ${MEASURED_S[$name]} s ($(nproc) cores)"
  fi
}

# measure NAME ORIGIN_ADDR "EDGE ADDRS" [CLUSTER ORIGIN_ID "EDGE IDS"]: RUNS runs in a
# row, then their report.
measure() {
  local i
  for i in $(seq "$RUNS"); do measure_run "$1" "$i" "${@:2}"; done
  measure_report "$1" "${@:4}"
}

# medians NAME: prints the tab-separated medians of NAME's runs (see MEDIANS).
medians() { jq -s -r "$MEDIANS" "$WORK/$1".*.json; }

# rss_anon PID: prints the process's RssAnon in KiB.
rss_anon() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status"; }

# since T0: prints seconds elapsed since T0 (an $EPOCHREALTIME value), 2 decimals.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

# wait_caught_up ADDRESS TARGET: waits (bounded, polling /metrics) until the node's
# applied sequence reaches TARGET.
wait_caught_up() {
  local address="$1" target="$2" seq deadline=$((SECONDS + CATCHUP_TIMEOUT_S))
  for (( ; ; )); do
    seq="$(applied_seq "$address")"
    ((seq >= target)) && return 0
    ((SECONDS < deadline)) || die "$address at sequence $seq, not $target, after ${CATCHUP_TIMEOUT_S} s"
    sleep 0.01
  done
}

section() { printf '\n== %s ==\n' "$*"; }

ROW='  %-38s %9s %9s %9s %9s %11s %7s %9s\n'
print_header() {
  # shellcheck disable=SC2059
  printf "$ROW" "visible on ALL edges, ms (median)" p50 p90 p99 max "writes/s" never "read p50"
}
print_row() {
  local label="$1" p50 p90 p99 max e50 e99 rate never rtt
  IFS=$'\t' read -r p50 p90 p99 max e50 e99 rate never rtt < <(medians "$2")
  # shellcheck disable=SC2059
  printf "$ROW" "$label" "$p50" "$p90" "$p99" "$max" "$rate" "$never" "$rtt"
}

echo "EdgeKV propagation benchmark: $RATE writes/s of 100-byte values, ${DURATION} s per run," \
  "$RUNS run(s) per setup; $(nproc) cores shared by every node and kv-bench; data under $WORK"

# How section a's first EdgeKV run writes and reads.
lan_label() {
  if [[ "$EDGE_READS" == resp && "$WRITES" == resp ]]; then echo "KV.PUT and HGET over RESP"
  else echo "gRPC Put, edges read over $EDGE_READS"; fi
}

# --- a) LAN, against Redis ---------------------------------------------------------------
# The EdgeKV and Redis runs alternate (EdgeKV over RESP, Redis, EdgeKV over gRPC Gets, then
# again), so a noisy stretch of a shared machine is spread over both rather than landing
# on one.
section "a) LAN: EdgeKV origin + 8 edges (local-1+8 on free ports, latency model off) against" \
  "Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-) master + 8 replicas" \
  "(loopback, $([[ "$REDIS_FSYNC" == always ]] && echo "master fsyncs every write (AOF always)" ||
    echo "no persistence")); runs interleaved"
start_cluster lan lan
LAN_ORIGIN="$(role_ids lan origin)"
mapfile -t LAN_EDGES < <(role_ids lan edge)
LAN_EDGE_ADDRS="$(edge_addrs lan "$EDGE_READS")"
mkdir -p "$WORK/redis"
free_ports 9
REDIS_PORTS=("${FREE_PORTS[@]}")
REDIS_PIDS=()
for i in "${!REDIS_PORTS[@]}"; do
  args=(--port "${REDIS_PORTS[$i]}" --bind 127.0.0.1 --save "" --dir "$WORK/redis"
    --dbfilename "dump-$i.rdb" --appendfilename "appendonly-$i.aof" --daemonize no)
  if ((i == 0)) && [[ "$REDIS_FSYNC" == always ]]; then
    args+=(--appendonly yes --appendfsync always)  # durable before it answers, as EdgeKV's origin
  else
    args+=(--appendonly no)
  fi
  ((i > 0)) && args+=(--replicaof 127.0.0.1 "${REDIS_PORTS[0]}")
  redis-server "${args[@]}" >"$WORK/redis/redis-$i.log" 2>&1 </dev/null &
  REDIS_PIDS+=("$!")
  ALL_PIDS+=("$!")
done
deadline=$((SECONDS + READY_TIMEOUT_S))
until [[ "$(redis-cli -p "${REDIS_PORTS[0]}" info replication 2>/dev/null | tr -d '\r' |
  grep -c '^slave[0-9]*:.*state=online')" -eq 8 ]]; do
  for pid in "${REDIS_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a redis-server exited"; done
  ((SECONDS < deadline)) || die "Redis replicas not all online after ${READY_TIMEOUT_S} s"
  sleep 0.05
done
log "redis: master on ${REDIS_PORTS[0]}, 8 replicas online"
REDIS_REPLICAS=""
for port in "${REDIS_PORTS[@]:1}"; do REDIS_REPLICAS+="127.0.0.1:$port "; done
if [[ -n "$COMPARE_LABEL" ]]; then
  # A second LAN cluster whose nodes also get COMPARE_ARGS (and run COMPARE_BIN_DIR's
  # kv-node); idle while the other runs.
  NODE_BIN_DIR="${COMPARE_BIN_DIR:-$BIN_DIR}" NODE_ARGS="${NODE_ARGS:-} $COMPARE_ARGS" \
    start_cluster lanb lan
  LANB_ORIGIN="$(role_ids lanb origin)"
  mapfile -t LANB_EDGES < <(role_ids lanb edge)
fi
measure_lanb() {
  [[ -n "$COMPARE_LABEL" ]] || return 0
  measure_run lanb "$1" "${NODE_GRPC[lanb/$LANB_ORIGIN]}" "$(edge_addrs lanb "$EDGE_READS")" \
    lanb "$LANB_ORIGIN" "${LANB_EDGES[*]}"
}
for run in $(seq "$RUNS"); do
  # The compared cluster runs before the other in even rounds, after it in odd ones.
  ((run % 2 == 0)) && measure_lanb "$run"
  measure_run lan "$run" "${NODE_GRPC[lan/$LAN_ORIGIN]}" "$LAN_EDGE_ADDRS" lan "$LAN_ORIGIN" \
    "${LAN_EDGES[*]}"
  ((run % 2 == 1)) && measure_lanb "$run"
  measure_run redis "$run" "127.0.0.1:${REDIS_PORTS[0]}" "$REDIS_REPLICAS"
  if grpc_round; then
    MEASURE_READS=grpc measure_run langet "$run" "${NODE_GRPC[lan/$LAN_ORIGIN]}" \
      "$(edge_addrs lan grpc)" lan "$LAN_ORIGIN" "${LAN_EDGES[*]}"
  fi
done
stop_pids "${REDIS_PIDS[@]}"
echo "  EdgeKV, $(lan_label):"
measure_report lan lan "$LAN_ORIGIN" "${LAN_EDGES[*]}"
if [[ -n "$COMPARE_LABEL" ]]; then
  echo "  EdgeKV with $COMPARE_LABEL:"
  measure_report lanb lanb "$LANB_ORIGIN" "${LANB_EDGES[*]}"
fi
if grpc_round; then
  echo "  EdgeKV, writes and reads over gRPC:"
  measure_report langet lan "$LAN_ORIGIN" "${LAN_EDGES[*]}"
fi
echo "  Redis:"
measure_report redis
print_header
print_row "EdgeKV LAN, $(lan_label)" lan
print_row "Redis (1 master + 8 replicas$([[ "$REDIS_FSYNC" == always ]] && echo ", AOF always"))" redis
grpc_round && print_row "EdgeKV LAN, gRPC Put and Get" langet
[[ -n "$COMPARE_LABEL" ]] && print_row "EdgeKV LAN, $COMPARE_LABEL" lanb
IFS=$'\t' read -r e50 _ e99 emax _ < <(medians lan)
IFS=$'\t' read -r r50 _ r99 rmax _ < <(medians redis)
awk -v e50="$e50" -v e99="$e99" -v emax="$emax" -v r50="$r50" -v r99="$r99" -v rmax="$rmax" '
  function x(e, r) { return (e == "-" || r == "-" || r == 0) ? "-" : sprintf("%.1fx", e / r) }
  BEGIN { printf "  EdgeKV / Redis (medians): p50 %s, p99 %s, max %s\n", x(e50, r50), x(e99, r99), x(emax, rmax) }'
# Per run: each EdgeKV run beside the Redis run made right after it.
for run in $(seq "$RUNS"); do
  jq -r -s --arg run "$run" --arg es "$(cat "$WORK/lan.$run.steal")" \
    --arg rs "$(cat "$WORK/redis.$run.steal")" '"  run \($run): p99 EdgeKV \(.[0].visible_on_all_ms.p99) ms, Redis" +
    " \(.[1].visible_on_all_ms.p99) ms: \(if .[1].visible_on_all_ms.p99 > 0 then
    (.[0].visible_on_all_ms.p99 / .[1].visible_on_all_ms.p99 * 10 | round / 10 | tostring) + "x"
    else "-" end) (host steal \($es)% and \($rs)%)"' "$WORK/lan.$run.json" "$WORK/redis.$run.json"
  if [[ -n "$COMPARE_LABEL" ]]; then
    jq -r --arg args "$COMPARE_LABEL" --arg bs "$(cat "$WORK/lanb.$run.steal")" \
      '"         with \($args): p99 \(.visible_on_all_ms.p99) ms (host steal \($bs)%)"' \
      "$WORK/lanb.$run.json"
  fi
done
# The target is a ratio of two noisy tails: how it holds round by round, not only on the
# medians (a round pairs an EdgeKV run with the Redis run right after it).
for run in $(seq "$RUNS"); do
  jq -r -s '.[0].visible_on_all_ms.p99 / .[1].visible_on_all_ms.p99' \
    "$WORK/lan.$run.json" "$WORK/redis.$run.json"
done | sort -g | awk '
  { r[NR] = $1; if ($1 <= 2) within++ }
  END {
    if (NR == 0) exit
    m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "  EdgeKV / Redis p99 per round: median %.2fx (%.2f-%.2fx); within 2x in %d of %d rounds\n",
      m, r[1], r[NR], within, NR
  }'
[[ -n "$COMPARE_LABEL" ]] && stop_cluster lanb

if [[ "${COMPARE_GRPC:-0}" == 1 ]]; then
  section "a2) The same over gRPC Subscribe (replication.stream_transport: grpc)"
  start_cluster lang lan-grpc
  LANG_ORIGIN="$(role_ids lang origin)"
  mapfile -t LANG_EDGES < <(role_ids lang edge)
  LANG_EDGE_ADDRS="$(edge_addrs lang "$EDGE_READS")"
  measure lang "${NODE_GRPC[lang/$LANG_ORIGIN]}" "$LANG_EDGE_ADDRS" lang "$LANG_ORIGIN" \
    "${LANG_EDGES[*]}"
  stop_cluster lang
  print_header
  print_row "EdgeKV LAN, TCP stream (default)" lan
  print_row "EdgeKV LAN, gRPC Subscribe" lang
fi


# --- c) three regions ----------------------------------------------------------------------
if want c; then
  section "c) EdgeKV with the three-region latency model on (local-1+8 as shipped, free ports)"
  start_cluster wan wan
  WAN_ORIGIN="$(role_ids wan origin)"
  mapfile -t WAN_EDGES < <(role_ids wan edge)
  WAN_EDGE_ADDRS="$(edge_addrs wan "$EDGE_READS")"
  measure wan "${NODE_GRPC[wan/$WAN_ORIGIN]}" "$WAN_EDGE_ADDRS" wan "$WAN_ORIGIN" "${WAN_EDGES[*]}"
  # The largest modelled one-way path from the origin to an edge, from the config's table.
  MODEL="$(awk -v origin="${NODE_REGION[wan/$WAN_ORIGIN]}" -v regions="$(
    for id in "${WAN_EDGES[@]}"; do printf '%s ' "${NODE_REGION[wan/$id]}"; done)" '
    /^[[:space:]]+intra_region_ms:/ { intra = $2 }
    /^[[:space:]]+default_ms:/ { dflt = $2 }
    /^[[:space:]]+- \[/ {  # - [region-a, region-b, ms]
      sub(/^[[:space:]]+- \[/, ""); gsub(/[],]/, " "); ms[$1 "|" $2] = $3; ms[$2 "|" $1] = $3
    }
    END {
      n = split(regions, r, " ")
      for (i = 1; i <= n; i++) {
        d = (r[i] == origin) ? intra : ((origin "|" r[i]) in ms ? ms[origin "|" r[i]] : dflt)
        if (d + 0 > best + 0) { best = d; to = r[i] }
      }
      printf "%s %s -> %s", best, origin, to
    }' "$CONFIG")"
  print_header
  print_row "EdgeKV, three-region model" wan
  IFS=$'\t' read -r _ _ w99 _ < <(medians wan)
  echo "  p99 visible on ALL edges: $w99 ms; largest modelled one-way origin -> edge path:" \
    "${MODEL%% *} ms (${MODEL#* })"
  stop_cluster wan
fi

# --- d) catch-up after a restart -----------------------------------------------------------
VICTIM="${LAN_EDGES[-1]}"
read -ra LAN_READ_ADDRS <<<"$(edge_addrs lan "$EDGE_READS")"
OTHERS="${LAN_READ_ADDRS[*]::${#LAN_READ_ADDRS[@]}-1}"  # all but the victim, the last edge
ORIGIN_METRICS="${NODE_METRICS[lan/$LAN_ORIGIN]}"
if want d; then
  section "d) Catch-up: stop $VICTIM (SIGTERM), ${CATCHUP_SECONDS} s of $RATE writes/s, restart it"
  seq_before="$(applied_seq "${NODE_METRICS[lan/$VICTIM]}")"
  stop_pids "${NODE_PID[lan/$VICTIM]}"
  log "catch-up: $VICTIM stopped at sequence $seq_before; writing to the other edges"
  # shellcheck disable=SC2046  # the flags are words without spaces
  bench "$WORK/catchup.json" "${NODE_GRPC[lan/$LAN_ORIGIN]}" "$OTHERS" "$CATCHUP_SECONDS" \
    --writers "$WRITERS" --edge-reads "$EDGE_READS" $(write_flags lan "$EDGE_READS")
  jq -r --arg run "while $VICTIM was down" "$RUN_LINE" "$WORK/catchup.json"
  target="$(applied_seq "$ORIGIN_METRICS")"
  t0="$EPOCHREALTIME"
  start_node lan "$VICTIM"
  wait_ready lan "$VICTIM"
  ready_s="$(since "$t0")"
  wait_caught_up "${NODE_METRICS[lan/$VICTIM]}" "$target"
  total_s="$(since "$t0")"
  awk -v behind="$((target - seq_before))" -v ready="$ready_s" -v total="$total_s" \
    -v victim="$VICTIM" -v from="$seq_before" -v to="$target" 'BEGIN {
      rest = total - ready
      printf "  %s was %d entries behind (applied sequence %d, origin %d)\n", victim, behind, from, to
      printf "  restarted: serving after %.2f s, caught up after %.2f s: %.0f entries/s overall,", ready, total,
        (total > 0 ? behind / total : 0)
      printf " %.0f entries/s once serving\n", (rest > 0 ? behind / rest : 0) }'
fi

# --- e) origin memory with a frozen edge ---------------------------------------------------
if want e; then
  FROZEN="${LAN_EDGES[-1]}"
  ORIGIN_PID="${NODE_PID[lan/$LAN_ORIGIN]}"
  section "e) Origin memory while $FROZEN is frozen (SIGSTOP) for ${CATCHUP_SECONDS} s of $RATE writes/s"
  anon_before="$(rss_anon "$ORIGIN_PID")"
  seq_frozen="$(applied_seq "${NODE_METRICS[lan/$FROZEN]}")"
  kill -STOP "${NODE_PID[lan/$FROZEN]}"
  log "memory: $FROZEN frozen; writing to the other edges"
  # shellcheck disable=SC2046
  bench "$WORK/frozen.json" "${NODE_GRPC[lan/$LAN_ORIGIN]}" "$OTHERS" "$CATCHUP_SECONDS" \
    --writers "$WRITERS" --edge-reads "$EDGE_READS" $(write_flags lan "$EDGE_READS") \
    --node-pid "$ORIGIN_PID"
  anon_after="$(rss_anon "$ORIGIN_PID")"
  jq -r --arg run "while $FROZEN was frozen" "$RUN_LINE" "$WORK/frozen.json"
  target="$(applied_seq "$ORIGIN_METRICS")"
  t0="$EPOCHREALTIME"
  kill -CONT "${NODE_PID[lan/$FROZEN]}"
  wait_caught_up "${NODE_METRICS[lan/$FROZEN]}" "$target"
  catchup_s="$(since "$t0")"
  jq -r --arg before "$anon_before" --arg after "$anon_after" '
    def mib: . * 10 | round / 10;
    "  origin RssAnon: \($before | tonumber / 1024 | mib) MiB before, \($after | tonumber / 1024 | mib) MiB after,"
    + " peak \(.node_memory.peak_rss_anon_mib | mib) MiB during the writes"
    + " (VmRSS peak \(.node_memory.peak_rss_mib | mib) MiB, \(.node_memory.samples) samples)"' \
    "$WORK/frozen.json"
  awk -v behind="$((target - seq_frozen))" -v s="$catchup_s" -v edge="$FROZEN" -v to="$target" 'BEGIN {
    printf "  after SIGCONT, %s caught up %d entries (to the origin'"'"'s sequence %d) in %.2f s: %.0f entries/s\n",
      edge, behind, to, s, (s > 0 ? behind / s : 0) }'
fi
