-- wrk script for bench/run.sh: POST /v1/messages with the headers a Claude client sends.
-- BENCH_STREAM=true asks for an SSE stream ("stream": true); wrk times a request until the
-- last chunk of the response has arrived. done() prints one machine-readable line.
local stream = os.getenv("BENCH_STREAM") == "true"

wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["anthropic-version"] = "2023-06-01"
wrk.headers["x-api-key"] = "sk-ant-bench-not-a-real-key"
wrk.body = '{"model":"claude-sonnet-4-5","max_tokens":256,"stream":' .. tostring(stream) ..
           ',"messages":[{"role":"user","content":"say hello"}]}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
