#!/usr/bin/env bash
# sluice benchmark: one command, one run, side by side against the baselines.
#
#   bench/run.sh                      # ~7.5 minutes on a 2-core machine
#
# For the same `sluice mock` upstream it measures, with wrk (POST /v1/messages, non-streaming
# and "stream": true, at concurrency 1, 16, 64):
#   direct       wrk -> mock
#   nginx        wrk -> nginx (plain reverse proxy, generated config) -> mock
#   sluice       wrk -> sluice serve (access log off) -> mock
#   sluice+log   wrk -> sluice serve (JSON access log to a file) -> mock
#   sluice-before  wrk -> BENCH_BASELINE_BIN serve (access log off) -> mock; only when that is set
# requests/s, p50/p99 latency, the latency each proxy adds over direct, sluice/nginx ratios
# and the CPU time per request of each proxy process (utime+stime from /proc/PID/stat before
# and after each run / requests completed). Each cell gets a warm-up and BENCH_REPS runs; the
# targets are interleaved rep by rep so that noise from other work on the machine hits them
# alike; the table shows medians. With BENCH_BASELINE_BIN=PATH (another sluice binary, e.g. one
# built from an older commit) the row sluice-before runs that binary with the sluice row's flags,
# interleaved with the others, and the report adds "sluice vs sluice-before" (req/s and CPU
# µs/req ratios per cell). Then it holds BENCH_STREAMS paced streams open through a
# fresh sluice and a fresh nginx and reports RSS per open stream.
#
# Settings (environment): BENCH_DURATION=5 (s per run), BENCH_WARMUP=1 (s), BENCH_REPS=3,
# BENCH_CONCURRENCY="1 16 64", BENCH_THREADS=1 (mock, sluice and nginx alike),
# BENCH_WRK_THREADS=1, BENCH_STREAMS=1000 (0 skips the memory test), BENCH_HOLD=8 (s),
# BENCH_OUT=bench/results, BENCH_KEEP=1 keeps the temp dir, SLUICE_BIN=build/sluice,
# BENCH_BASELINE_BIN= (unset: no sluice-before row), BENCH_SLUICE_CONFIG= / BENCH_BASELINE_CONFIG=
# (a YAML file passed as `serve --config FILE` to the SLUICE_BIN rows / to the sluice-before row,
# e.g. to turn a later feature off so that a before/after pair differs only in what is measured),
# NGINX_BIN=/usr/sbin/nginx, WRK_BIN=wrk.
# Everything listens on 127.0.0.1 only; every process started here is stopped by its PID. Each
# sluice gets its own data dir (ledger, key store) in the temp dir: nothing is written to the tree.
# shellcheck disable=SC2154,SC2046,SC2086  # names set through printf -v; PID lists split on purpose
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SLUICE=${SLUICE_BIN:-$ROOT/build/sluice}
BASELINE=${BENCH_BASELINE_BIN:-}
SLUICE_CONFIG=${BENCH_SLUICE_CONFIG:-}
BASELINE_CONFIG=${BENCH_BASELINE_CONFIG:-}
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
WRK=${WRK_BIN:-wrk}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
REPS=${BENCH_REPS:-3}
CONCS=${BENCH_CONCURRENCY:-1 16 64}
THREADS=${BENCH_THREADS:-1}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
STREAMS=${BENCH_STREAMS:-1000}
HOLD=${BENCH_HOLD:-8}
((HOLD >= 6)) || HOLD=6  # RSS is sampled 2, 3 and 4 s after READY: the streams must still be open
OUT=${BENCH_OUT:-$HERE/results}
TARGETS=(direct nginx sluice sluice+log)
[[ -z $BASELINE ]] || TARGETS=(direct nginx sluice-before sluice sluice+log)

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

[[ -x $SLUICE ]] || die "$SLUICE not found: build first (scripts/build.sh)"
[[ -z $BASELINE || -x $BASELINE ]] || die "BENCH_BASELINE_BIN=$BASELINE is not an executable"
[[ -z $SLUICE_CONFIG || -r $SLUICE_CONFIG ]] || die "BENCH_SLUICE_CONFIG=$SLUICE_CONFIG is not readable"
[[ -z $BASELINE_CONFIG || -r $BASELINE_CONFIG ]] || die "BENCH_BASELINE_CONFIG=$BASELINE_CONFIG is not readable"
[[ -z $BASELINE_CONFIG || -n $BASELINE ]] || die "BENCH_BASELINE_CONFIG needs BENCH_BASELINE_BIN"
[[ -x $NGINX ]] || die "$NGINX not found: apt-get install -y nginx-light"
command -v "$WRK" >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v node >/dev/null || die "node not found"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install -y time"

# 1,000 streams need ~2,000 descriptors in the proxy, 1,000 in the mock and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4 * STREAMS + 256 )) || ulimit -n $((4 * STREAMS + 256)) 2>/dev/null ||
  log "warning: ulimit -n is $(ulimit -n), too low for $STREAMS streams"

WORK=$(mktemp -d /tmp/sluice-bench.XXXXXX)
mkdir -p "$OUT"
# Run a private copy, so that a rebuild of build/sluice during the run cannot mix two binaries.
SLUICE_ORIG=$SLUICE
SLUICE_BUILT=$(stat -c %y "$SLUICE" | cut -d. -f1)
cp "$SLUICE" "$WORK/sluice"
SLUICE=$WORK/sluice
# Source files compiled without optimisation (the last -O flag is -O0), e.g. a file someone set
# to -O0 to debug it: their figures would not be sluice's. Named in the report.
unoptimized() {
  readelf --debug-dump=info "$1" 2>/dev/null | grep -A2 'DW_AT_producer' |
    awk '/DW_AT_producer/ { p = $0 } /DW_AT_name/ && p {
           n = split(p, a, " "); o = ""; for (i = 1; i <= n; i++) if (a[i] ~ /^-O/) o = a[i]
           if (o == "-O0") { sub(/.*\//, "", $NF); print $NF }; p = "" }' | sort -u | tr '\n' ' ' || true
}
UNOPTIMIZED=$(unoptimized "$SLUICE")
[[ -z $UNOPTIMIZED ]] || log "WARNING: compiled with -O0 in this binary: $UNOPTIMIZED"
if [[ -n $BASELINE ]]; then  # a private copy too
  BASELINE_ORIG=$BASELINE
  BASELINE_BUILT=$(stat -c %y "$BASELINE" | cut -d. -f1)
  cp "$BASELINE" "$WORK/sluice-before"
  BASELINE=$WORK/sluice-before
  BASELINE_UNOPTIMIZED=$(unoptimized "$BASELINE")
  [[ -z $BASELINE_UNOPTIMIZED ]] || log "WARNING: compiled with -O0 in the baseline: $BASELINE_UNOPTIMIZED"
fi
PIDS=()  # every process this script started

forget_pid() {  # once reaped, a PID may be reused by someone else: never signal it again
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop_pid() {  # TERM, wait up to 5 s, then KILL; only PIDs this script started are passed here
  local pid=$1 i
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}
cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then log "kept $WORK (logs)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_file() {  # wait_file FILE PID: until FILE is non-empty (max 10 s) or PID dies
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || die "process $2 exited early (see $WORK)"
    sleep 0.1
  done
  die "timed out waiting for $1"
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# --- processes ---------------------------------------------------------------------------

start_mock() {
  "$SLUICE" mock --listen 127.0.0.1:0 --threads "$THREADS" --port-file "$WORK/mock.port" \
    >"$WORK/mock.log" 2>&1 &
  MOCK_PID=$!; PIDS+=("$MOCK_PID")
  wait_file "$WORK/mock.port" "$MOCK_PID"
  MOCK_PORT=$(<"$WORK/mock.port")
}

# start_sluice NAME ACCESS_LOG [BINARY CONFIG] -> sets SLUICE_PID_<NAME>, SLUICE_PORT_<NAME>
# Its ledger and key store go to $WORK/data-NAME (not ./sluice-data in the caller's directory).
# CONFIG defaults to BENCH_SLUICE_CONFIG for SLUICE_BIN; the environment and the flags below
# override what the file says about threads, access log, data dir, listener and upstream.
start_sluice() {
  local name=$1 alog=$2 bin=${3:-$SLUICE} conf=${4-$SLUICE_CONFIG} pid cfg_args=()
  [[ -z $conf ]] || cfg_args=(--config "$conf")
  rm -f "$WORK/$name.port"
  mkdir -p "$WORK/data-$name"
  SLUICE_ACCESS_LOG="$alog" SLUICE_THREADS="$THREADS" SLUICE_DATA_DIR="$WORK/data-$name" \
    "$bin" serve "${cfg_args[@]}" --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$MOCK_PORT" \
    --port-file "$WORK/$name.port" >"$WORK/$name.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_file "$WORK/$name.port" "$pid"
  printf -v "SLUICE_PID_$name" %s "$pid"
  printf -v "SLUICE_PORT_$name" %s "$(<"$WORK/$name.port")"
}

# start_nginx NAME -> NGINX_PID_<NAME> (master), NGINX_PORT_<NAME>
start_nginx() {
  local name=$1 dir=$WORK/$1 port pid i
  port=$(free_port)
  mkdir -p "$dir/logs" "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
# generated by bench/run.sh: nginx as a plain reverse proxy in front of sluice mock
daemon off;
master_process on;
worker_processes $THREADS;
worker_rlimit_nofile $((4 * STREAMS + 1024));
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections $((3 * STREAMS + 1024)); }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;   # like sluice: no cap on requests per client connection
  keepalive_timeout 75s;
  client_max_body_size 32m;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 64;                 # idle upstream connections kept per worker (sluice: 64)
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;        # relay SSE as it arrives
      proxy_read_timeout 600s;
    }
  }
}
EOF
  "$NGINX" -p "$dir" -c "$dir/nginx.conf" >"$dir/logs/stdout.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || die "nginx exited: $(cat "$dir/logs/error.log" "$dir/logs/stdout.log")"
    sleep 0.1
  done
  ((i < 100)) || die "nginx did not answer on port $port"
  printf -v "NGINX_PID_$name" %s "$pid"
  printf -v "NGINX_PORT_$name" %s "$port"
}

nginx_workers() { pgrep -P "$1" | tr '\n' ' '; }

# --- measurements ------------------------------------------------------------------------

cpu_ticks() {  # utime+stime (clock ticks) summed over the PIDs given
  local t=0 p f
  for p in "$@"; do
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"$f"  # after "pid (comm) ": f[11] = utime, f[12] = stime
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}
rss_kb() {  # VmRSS (kB) summed over the PIDs given
  local t=0 p v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
machine_busy() {  # task time (user+nice+system+steal) and total ticks of all CPUs since boot
  # irq/softirq time is left out of both sides of "others": with IRQ time accounting the
  # kernel charges loopback packet processing there rather than to the processes.
  awk '/^cpu / {b = $2 + $3 + $4 + $9; t = b + $5 + $6 + $7 + $8; print b, t}' /proc/stat
}
load1() { cut -d' ' -f1 /proc/loadavg; }
HZ=$(getconf CLK_TCK)

url_of() {
  case $1 in
    direct) echo "http://127.0.0.1:$MOCK_PORT/v1/messages" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT_bench/v1/messages" ;;
    sluice) echo "http://127.0.0.1:$SLUICE_PORT_plain/v1/messages" ;;
    sluice+log) echo "http://127.0.0.1:$SLUICE_PORT_logged/v1/messages" ;;
    sluice-before) echo "http://127.0.0.1:$SLUICE_PORT_before/v1/messages" ;;
  esac
}
proxy_pids_of() {
  case $1 in
    direct) echo "" ;;
    nginx) echo "$NGINX_PID_bench $(nginx_workers "$NGINX_PID_bench")" ;;
    sluice) echo "$SLUICE_PID_plain" ;;
    sluice+log) echo "$SLUICE_PID_logged" ;;
    sluice-before) echo "$SLUICE_PID_before" ;;
  esac
}

log_of() {
  case $1 in
    direct) echo "$WORK/mock.log" ;;
    nginx) echo "$WORK/bench/logs/error.log" ;;
    sluice) echo "$WORK/plain.log" ;;
    sluice+log) echo "$WORK/logged.log" ;;
    sluice-before) echo "$WORK/before.log" ;;
  esac
}
# A proxy that dies under load is a finding, not a reason to lose the run: the crash is
# counted in the table, its log kept in $OUT/crash-*.log, the proxy restarted, and the run
# it broke left out of the medians. If the mock dies nothing can be measured: stop.
declare -A CRASHES=()
alive() {  # alive PID... : all still running?
  local p
  for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done
}
handle_crash() {  # handle_crash TARGET
  local t=$1 saved
  alive "$MOCK_PID" || { tail -n 20 "$WORK/mock.log" >&2; die "the mock died (log above)"; }
  CRASHES[$t]=$((${CRASHES[$t]:-0} + 1))
  saved="$OUT/crash-$t-$(date -u +%Y%m%dT%H%M%SZ).log"
  cp "$(log_of "$t")" "$saved" 2>/dev/null || true
  log "CRASH: $t died under load ($(tail -n 3 "$(log_of "$t")" | tr '\n' ' ')); log kept in $saved; restarting it"
  case $t in
    sluice) stop_pid "$SLUICE_PID_plain"; start_sluice plain "" ;;
    sluice+log) stop_pid "$SLUICE_PID_logged"; start_sluice logged "$WORK/access.log" ;;
    sluice-before) stop_pid "$SLUICE_PID_before"; start_sluice before "" "$BASELINE" "$BASELINE_CONFIG" ;;
    nginx) stop_pid "$NGINX_PID_bench"; rm -rf "$WORK/bench"; start_nginx bench ;;
  esac
}

# run_wrk TARGET MODE CONC SECONDS -> leaves wrk's output in $WORK/wrk.out, its CPU in $WORK/wrk.time
run_wrk() {
  local stream=false t=$WRK_THREADS
  [[ $2 == stream ]] && stream=true
  ((t > $3)) && t=$3
  BENCH_STREAM=$stream /usr/bin/time -f '%U %S' -o "$WORK/wrk.time" \
    "$WRK" -t"$t" -c"$3" -d"$4"s --timeout 10s --latency -s "$HERE/post.lua" "$(url_of "$1")" \
    >"$WORK/wrk.out" 2>&1 || { log "wrk failed against $1: $(head -c 300 "$WORK/wrk.out")"; return 0; }
}

RAW=$WORK/raw.tsv
printf 'mode\tconc\ttarget\trep\trps\tp50_us\tp99_us\trequests\terrors\tproxy_cpu_us_per_req\tmock_cpu_us_per_req\tothers_cores\tload1\tcrashed\n' >"$RAW"

# measure TARGET MODE CONC REP: one timed run, one row in $RAW
measure() {
  local target=$1 mode=$2 conc=$3 rep=$4 ppids p0 p1 m0 m1 b0 t0 b1 t1 line wrk_cpu
  ppids=$(proxy_pids_of "$target")
  local ld; ld=$(load1)
  p0=$(cpu_ticks $ppids); m0=$(cpu_ticks "$MOCK_PID"); read -r b0 t0 < <(machine_busy)
  run_wrk "$target" "$mode" "$conc" "$DURATION"
  p1=$(cpu_ticks $ppids); m1=$(cpu_ticks "$MOCK_PID"); read -r b1 t1 < <(machine_busy)
  local crashed=0
  if ! alive "$MOCK_PID" $ppids; then crashed=1; handle_crash "$target"; fi
  line=$(grep '^BENCH ' "$WORK/wrk.out") || line=""
  if [[ -z $line ]]; then
    ((crashed)) || { cat "$WORK/wrk.out" >&2; die "no result from wrk against $target"; }
    line="BENCH requests=0 duration_us=0 p50_us=0 p99_us=0 err_connect=1"
  fi
  wrk_cpu=$(tail -n1 "$WORK/wrk.time" | awk '{printf "%d", ($1 + $2) * '"$HZ"' + 0.5}')
  # shellcheck disable=SC2086
  awk -v mode="$mode" -v conc="$conc" -v target="$target" -v rep="$rep" -v hz="$HZ" \
      -v pt=$((p1 - p0)) -v mt=$((m1 - m0)) -v wt="$wrk_cpu" -v bt=$((b1 - b0)) \
      -v tt=$((t1 - t0)) -v ncpu="$(nproc)" -v ld="$ld" -v crashed="$crashed" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      n = v["requests"]; secs = v["duration_us"] / 1e6
      err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
      others = bt - pt - mt - wt; if (others < 0) others = 0
      printf "%s\t%s\t%s\t%s\t%.1f\t%d\t%d\t%d\t%d\t%s\t%.1f\t%.2f\t%s\t%d\n", mode, conc, target, rep,
        (secs > 0 ? n / secs : 0), v["p50_us"], v["p99_us"], n, err,
        (target == "direct" || crashed || n == 0) ? "" : sprintf("%.1f", pt * 1e6 / hz / n),
        (n > 0 ? mt * 1e6 / hz / n : 0), (tt > 0 ? others / tt * ncpu : 0), ld, crashed
    }' <<<"$line" >>"$RAW"
  tail -n1 "$RAW" | awk -F'\t' '{printf "bench: %-6s c=%-3s %-13s rep %s: %8s req/s  p50 %6.2f ms  p99 %6.2f ms  proxy %s us/req  errors %s  others %s cores%s\n",
    $1, $2, $3, $4, $5, $6/1000, $7/1000, ($10 == "" ? "-" : $10), $9, $12, ($14 == 1 ? "  CRASHED" : "")}' >&2
}

check_target() {  # one streamed and one plain request through TARGET must succeed
  local url; url=$(url_of "$1")
  local h=(-H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' -H 'x-api-key: sk-ant-bench')
  curl -fsS "${h[@]}" "$url" -d '{"model":"m","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}' |
    grep -q '"type":"message"' || die "$1: non-streaming request failed"
  curl -fsSN "${h[@]}" "$url" -d '{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}' |
    grep -q 'event: message_stop' || die "$1: streaming request failed"
}

# --- run ---------------------------------------------------------------------------------

START_TS=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# the tree as it is now, while the binary copied above is the one that runs
GIT_DESC=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SECONDS=0
log "work dir $WORK; $(nproc) cores; load average $LOAD_START"
start_mock
start_sluice plain ""
start_sluice logged "$WORK/access.log"
[[ -z $BASELINE ]] || start_sluice before "" "$BASELINE" "$BASELINE_CONFIG"
start_nginx bench
for t in "${TARGETS[@]}"; do check_target "$t"; done
log "mock :$MOCK_PORT (pid $MOCK_PID), sluice :$SLUICE_PORT_plain, sluice+log :$SLUICE_PORT_logged, nginx :$NGINX_PORT_bench${BASELINE:+, sluice-before :$SLUICE_PORT_before}"

for mode in plain stream; do
  for conc in $CONCS; do
    for t in "${TARGETS[@]}"; do
      run_wrk "$t" "$mode" "$conc" "$WARMUP"
      if ! alive "$MOCK_PID" $(proxy_pids_of "$t"); then  # counted as a crash, no figures
        handle_crash "$t"
        printf '%s\t%s\t%s\twarm-up\t0\t0\t0\t0\t0\t\t0\t0\t%s\t1\n' "$mode" "$conc" "$t" "$(load1)" >>"$RAW"
      fi
    done
    for ((rep = 1; rep <= REPS; rep++)); do
      # rotate the order each rep so no target always runs first (or right after another)
      for ((k = 0; k < ${#TARGETS[@]}; k++)); do
        measure "${TARGETS[$(((k + rep - 1) % ${#TARGETS[@]}))]}" "$mode" "$conc" "$rep"
      done
      : >"$WORK/access.log"  # appended with O_APPEND: truncating keeps the file small
    done
  done
done
LOAD_MID=$(cut -d' ' -f1-3 /proc/loadavg)
THROUGHPUT_SECS=$SECONDS

# --- memory per open stream ----------------------------------------------------------------

MEM=$WORK/mem.tsv
printf 'proxy\tstreams\trss_idle_kb\trss_during_kb\trss_after_kb\tkb_per_stream\trss_during2_kb\trss_after2_kb\tramp_ms\tevents_while_held_min\tok\n' >"$MEM"

# hold_streams NAME ROUND URL PIDS_FN: one round of STREAMS streams; sets R_DURING R_AFTER
# (RSS kB) R_OPEN R_RAMP R_EVMIN R_OK
hold_streams() {
  local name=$1 round=$2 url=$3 pidsfn=$4 out=$WORK/streams-$1-$2.out npid i s v ready_line done_line
  node "$HERE/streams.mjs" --url "$url" --n "$STREAMS" --hold "$HOLD" >"$out" 2>&1 &
  npid=$!; PIDS+=("$npid")
  for ((i = 0; i < 1200; i++)); do  # up to 120 s for all streams to be open
    grep -q '^READY' "$out" && break
    kill -0 "$npid" 2>/dev/null || break
    sleep 0.1
  done
  ready_line=$(grep '^READY' "$out" || true)
  if [[ -z $ready_line ]]; then  # the client gave up (or the proxy died): no figure this round
    log "memory $name round $round: streams never became ready: $(head -c 300 "$out")"
    stop_pid "$npid"
    R_DURING=0 R_AFTER=0 R_OPEN=0 R_RAMP='?' R_EVMIN='?' R_OK=no
    alive $($pidsfn) || R_OK=crashed
    return 0
  fi
  sleep 2
  R_DURING=0
  for ((s = 0; s < 3; s++)); do  # highest of three samples, 1 s apart, all while held
    v=$(rss_kb $($pidsfn)); ((v > R_DURING)) && R_DURING=$v
    sleep 1
  done
  R_OK=yes
  for ((i = 0; i < 300; i++)); do kill -0 "$npid" 2>/dev/null || break; sleep 0.1; done
  wait "$npid" || R_OK=no
  forget_pid "$npid"
  done_line=$(grep '^DONE' "$out" || echo "DONE (missing)")
  sleep 2
  R_AFTER=$(rss_kb $($pidsfn))
  R_OPEN=$(sed -n 's/^READY open=\([0-9]*\).*/\1/p' <<<"$ready_line")
  R_RAMP=$(sed -n 's/.*ramp_ms=\([0-9]*\).*/\1/p' <<<"$ready_line")
  R_EVMIN=$(sed -n 's/.*events_while_held_min=\([0-9]*\).*/\1/p' <<<"$done_line")
  ((R_OPEN == STREAMS)) || R_OK=no
  alive $($pidsfn) || R_OK=crashed
  log "memory $name round $round: $ready_line / $done_line / RSS during ${R_DURING} kB, after ${R_AFTER} kB"
}

# mem_test NAME PIDS_FN PORT (PIDS_FN prints the PIDs whose RSS is summed). Round 1 gives the
# figure; round 2 shows whether memory freed after round 1 is reused (flat) or leaked (grows).
mem_test() {
  local name=$1 pidsfn=$2 url="http://127.0.0.1:$3/v1/messages" i idle d1 a1 open ramp evmin ok
  for ((i = 0; i < 20; i++)); do  # warm the proxy's pools and allocator a little
    curl -fsS -o /dev/null -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
      -H 'x-api-key: sk-ant-bench' "$url" \
      -d '{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
  done
  sleep 1
  idle=$(rss_kb $($pidsfn))
  log "memory $name: RSS idle ${idle} kB"
  hold_streams "$name" 1 "$url" "$pidsfn"
  d1=$R_DURING a1=$R_AFTER open=$R_OPEN ramp=$R_RAMP evmin=$R_EVMIN ok=$R_OK
  if [[ $ok != crashed ]]; then hold_streams "$name" 2 "$url" "$pidsfn"; fi
  [[ $R_OK == yes || $ok != yes ]] || ok=$R_OK
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$open" "$idle" "$d1" "$a1" \
    "$(awk -v a="$idle" -v b="$d1" -v n="$open" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : 0) }')" \
    "$R_DURING" "$R_AFTER" "$ramp" "${evmin:-?}" "$ok" >>"$MEM"
}

if ((STREAMS > 0)); then
  # fresh proxies: the throughput runs above have grown the old ones' heaps
  stop_pid "$SLUICE_PID_plain"; stop_pid "$SLUICE_PID_logged"; stop_pid "$NGINX_PID_bench"
  [[ -z $BASELINE ]] || stop_pid "$SLUICE_PID_before"
  mem_pids_sluice() { echo "$SLUICE_PID_mem"; }
  mem_pids_nginx() { nginx_workers "$NGINX_PID_mem"; }  # the workers hold the connections
  start_sluice mem ""
  mem_test sluice mem_pids_sluice "$SLUICE_PORT_mem"
  stop_pid "$SLUICE_PID_mem"
  start_nginx mem
  mem_test nginx mem_pids_nginx "$NGINX_PORT_mem"
  stop_pid "$NGINX_PID_mem"
fi

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report --------------------------------------------------------------------------------

cat >"$WORK/meta.env" <<EOF
date=$START_TS
cores=$(nproc)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
kernel=$(uname -r)
load_start=$LOAD_START
load_mid=$LOAD_MID
load_end=$LOAD_END
seconds_total=$SECONDS
seconds_throughput=$THROUGHPUT_SECS
sluice=$("$SLUICE" --version 2>/dev/null | head -n1 | sed 's/^sluice //') (built $SLUICE_BUILT, sha256 $(sha256sum "$SLUICE" | cut -c1-12))
git=$GIT_DESC
unoptimized=$UNOPTIMIZED
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$SLUICE_ORIG")/CMakeCache.txt" 2>/dev/null || echo ?)
baseline=${BASELINE:+$("$BASELINE" --version 2>/dev/null | head -n1 | sed 's/^sluice //') ($BASELINE_ORIG, built $BASELINE_BUILT, sha256 $(sha256sum "$BASELINE" | cut -c1-12))}
baseline_unoptimized=${BASELINE_UNOPTIMIZED:-}
sluice_config=${SLUICE_CONFIG:+$SLUICE_CONFIG: $(grep -v '^[[:space:]]*#' "$SLUICE_CONFIG" | tr -s ' \n' ' ')}
baseline_config=${BASELINE_CONFIG:+$BASELINE_CONFIG: $(grep -v '^[[:space:]]*#' "$BASELINE_CONFIG" | tr -s ' \n' ' ')}
nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
wrk=$("$WRK" -v 2>&1 | head -n1 | cut -d' ' -f1-2)
node=$(node --version)
threads=$THREADS
wrk_threads=$WRK_THREADS
duration=$DURATION
warmup=$WARMUP
reps=$REPS
streams=$STREAMS
hold=$HOLD
EOF

stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$RAW" "$OUT/raw-$stamp.tsv"
cp "$MEM" "$OUT/mem-$stamp.tsv"
cp "$WORK/meta.env" "$OUT/meta-$stamp.env"
node "$HERE/report.mjs" "$RAW" "$MEM" "$WORK/meta.env" >"$OUT/run-$stamp.md"
cp "$OUT/run-$stamp.md" "$OUT/latest.md"
cat "$OUT/latest.md"
log "done in ${SECONDS}s; table in $OUT/latest.md, raw runs in $OUT/raw-$stamp.tsv"
