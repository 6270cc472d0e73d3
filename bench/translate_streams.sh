#!/usr/bin/env bash
# Side by side in the gateway (issue 7): CPU of the gateway process per streamed request, for
# the same 42-event answer relayed three ways by one `sluice serve` (1 worker, access log off)
# in front of one `sluice mock` (1 thread, unpaced):
#   passthrough                 Anthropic client -> Anthropic upstream (byte-transparent relay)
#   anthropic-client-to-openai  Anthropic client -> OpenAI upstream (Claude Code on other models)
#   openai-client-to-anthropic  OpenAI client (/v1/chat/completions) -> Anthropic upstream
# Alternating runs of wrk -t1 -c$CONC for $DUR s, $REPS times; CPU from /proc/<pid>/stat.
#   bench/translate_streams.sh          (env: SLUICE_BIN, REPS=5, DUR=5, CONC=8)
# Every process it starts listens on 127.0.0.1 and is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_BIN:-build/sluice}; REPS=${REPS:-5}; DUR=${DUR:-5}; CONC=${CONC:-8}
W=$(mktemp -d /tmp/sluice-xbench.XXXXXX)
cp "$BIN" "$W/sluice"  # a private copy: a rebuild during the run cannot mix binaries
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
waitf() { local i; for i in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.1; done; echo "no port file $1" >&2; exit 1; }
ticks() { local f; f=$(sed 's/^.*) //' "/proc/$1/stat"); read -r -a f <<<"$f"; echo $((f[11] + f[12])); }
HZ=$(getconf CLK_TCK)

words=$(for i in $(seq 0 39); do printf 'word%d ' "$i"; done)
anth="{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"$words\"}]}"
chat="{\"model\":\"claude-sonnet-4-5\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"$words\"}]}"
printf 'wrk.method="POST"\nwrk.headers["x-api-key"]="k"\nwrk.headers["anthropic-version"]="2023-06-01"\nwrk.headers["content-type"]="application/json"\nwrk.body=[[%s]]\n' "$anth" >"$W/anth.lua"
printf 'wrk.method="POST"\nwrk.headers["authorization"]="Bearer k"\nwrk.headers["content-type"]="application/json"\nwrk.body=[[%s]]\n' "$chat" >"$W/chat.lua"

"$W/sluice" mock --listen 127.0.0.1:0 --threads 1 --port-file "$W/m" >/dev/null 2>&1 & PIDS+=($!)
waitf "$W/m"; M=http://127.0.0.1:$(<"$W/m")
cat >"$W/oai.yaml" <<Y
server: {threads: 1}
providers: [{name: oai, kind: openai, base_url: "$M/v1", api_key: k, retry: {max_attempts: 1}}]
routes: [{model: "*", provider: oai, upstream_model: mock-chat}]
Y
SLUICE_ACCESS_LOG='' SLUICE_THREADS=1 SLUICE_DATA_DIR="$W/a" "$W/sluice" serve --upstream "$M" --listen 127.0.0.1:0 \
  --port-file "$W/a.port" >/dev/null 2>&1 & A=$!; PIDS+=($A)
SLUICE_ACCESS_LOG='' SLUICE_DATA_DIR="$W/b" "$W/sluice" serve --config "$W/oai.yaml" --listen 127.0.0.1:0 \
  --port-file "$W/b.port" >/dev/null 2>&1 & B=$!; PIDS+=($B)
waitf "$W/a.port"; waitf "$W/b.port"

run() {  # name pid url lua
  local t0 t1 out req
  t0=$(ticks "$2"); out=$(wrk -t1 -c"$CONC" -d"${DUR}s" -s "$W/$4" "$3" 2>&1); t1=$(ticks "$2")
  req=$(echo "$out" | awk '/requests in/ {print $1}')
  printf '%-28s %8s req  %7.1f us CPU/req\n' "$1" "$req" "$(awk -v t=$((t1 - t0)) -v r="$req" -v hz="$HZ" 'BEGIN{print t*1e6/hz/r}')"
}
for r in $(seq "$REPS"); do
  run passthrough "$A" "http://127.0.0.1:$(<"$W/a.port")/v1/messages" anth.lua
  run anthropic-client-to-openai "$B" "http://127.0.0.1:$(<"$W/b.port")/v1/messages" anth.lua
  run openai-client-to-anthropic "$A" "http://127.0.0.1:$(<"$W/a.port")/v1/chat/completions" chat.lua
done
