#!/usr/bin/env node
// Soak test of the resilience machinery (issue: resilience, "Done when"): for N minutes, W
// concurrent clients send requests through `sluice serve` to `sluice mock`, each with a random
// fault (none, 429, 500, 529, reset-after-k, error-after-k, stall-after-k under a small idle
// timeout, truncate-after-k, slow-first-byte, malformed SSE, a client that leaves mid-way),
// streaming or not, sometimes failing only the first attempts. It checks that
//   - no request hangs: every one ends before its client-side deadline;
//   - no stream looks finished when it is not: a 200 stream ends with message_stop or one
//     `event: error`, and the chunked body is terminated;
//   - no upstream connection leaks: the gateway's sockets to the mock are counted (from
//     /proc/<pid>/fd and /proc/net/tcp{,6}) before and after, and after may not exceed the idle
//     pool (pool.max_idle x worker threads);
//   - memory stays bounded: gateway RSS at the start, middle and end (and the peak).
// Then it prints a summary table and exits 1 if a check failed.
//
// Not part of CTest (it takes minutes). Run from the repository root, after building:
//   node tests/integration/soak/soak.mjs                       # 3 minutes, 8 workers, build/sluice
//   node tests/integration/soak/soak.mjs --minutes 10 --workers 16
//   SLUICE_BIN=build-asan-ubsan/sluice node tests/integration/soak/soak.mjs --minutes 2
// Options: --minutes M (default 3), --workers W (8), --timeout-ms T (client deadline, 15000),
// --seed S (random seed, default: time), --sample-s S (resource sampling period, 5).
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startMock, startGateway, sleep, sluiceBin } from '../../support/harness.mjs';
import { API_HEADERS, Conn, messagesBody, resilienceConfig, tcpSocketsTo, now } from '../helpers.mjs';

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    workers: { type: 'string', default: '8' },
    'timeout-ms': { type: 'string', default: '15000' },
    seed: { type: 'string', default: String(Date.now() % 1000000) },
    'sample-s': { type: 'string', default: '5' },
  },
});
const MINUTES = Number(opts.minutes);
const WORKERS = Number(opts.workers);
const CLIENT_TIMEOUT_MS = Number(opts['timeout-ms']);
const SAMPLE_MS = Number(opts['sample-s']) * 1000;
let seed = Number(opts.seed);

// The gateway under test: small timeouts so that faults resolve quickly, a small idle pool so
// that a leak beyond it shows.
const THREADS = 2;
const POOL_MAX_IDLE = 4;
const IDLE_MS = 500;
const FIRST_BYTE_MS = 1000;
const TOTAL_MS = 10000;

// A small deterministic PRNG (mulberry32), so a failing run can be repeated with --seed.
function random() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (list) => {
  const total = list.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [v, w] of list) { if ((r -= w) < 0) return v; }
  return list.at(-1)[0];
};

// Fault scenarios and their weights. Each returns the mock headers for one request.
const SCENARIOS = [
  ['none', 24, () => ({})],
  ['paced', 6, () => ({ 'x-mock-tokens-per-second': String(int(50, 400)) })],
  ['429', 8, () => ({ 'x-mock-fault': 'status-429', 'x-mock-retry-after': String(int(0, 1)) })],
  ['500', 5, () => ({ 'x-mock-fault': 'status-500' })],
  ['529', 8, () => ({ 'x-mock-fault': 'status-529' })],
  ['reset', 8, () => ({ 'x-mock-fault': `reset-after-${int(0, 8)}` })],
  ['error', 8, () => ({ 'x-mock-fault': `error-after-${int(0, 8)}`, ...(random() < 0.3 ? { 'x-mock-error-type': 'api_error' } : {}) })],
  ['stall', 6, () => ({ 'x-mock-fault': `stall-after-${int(0, 6)}` })],
  ['truncate', 6, () => ({ 'x-mock-fault': `truncate-after-${int(0, 8)}` })],
  ['slow', 6, () => ({ 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': String(int(100, 1500)) })],
  ['malformed', 3, () => ({ 'x-mock-fault': 'malformed-sse' })],
  // The client leaves: mid-stream (paced), or before the head while the gateway waits for the
  // upstream's first byte (slow-first-byte) — see oneRequest().
  ['client-abort', 6, () => (random() < 0.5
    ? { 'x-mock-tokens-per-second': String(int(20, 100)) }
    : { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '800' })],
];

// ---- resources of the gateway process ----

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function fdCount(pid) { return readdirSync(`/proc/${pid}/fd`).length; }

function sample(gw, mockPort, label) {
  const pid = gw.proc.pid;
  return { label, t: now(), rssKiB: rssKiB(pid), fds: fdCount(pid), upstream: tcpSocketsTo(pid, mockPort), inFlight };
}

// ---- one client request ----

const stats = { requests: 0, outcomes: {}, scenarios: {}, attempts: {}, latencies: [], problems: [] };
let inFlight = 0;
let keySeq = 0;

function count(map, key) { map[key] = (map[key] || 0) + 1; }

async function oneRequest(gwPort) {
  const chosen = pick(SCENARIOS.map((s) => [s[0], s[1]]));
  const [name, , headersOf] = SCENARIOS.find((s) => s[0] === chosen);
  const stream = name === 'client-abort' || name === 'paced' ? true : random() < 0.7;
  const headers = { ...API_HEADERS, ...headersOf() };
  // Half of the faulty requests fail only their first 1-2 attempts, so retries can succeed.
  if (headers['x-mock-fault'] && random() < 0.5) {
    headers['x-mock-fail-times'] = String(int(1, 2));
    headers['x-mock-fault-key'] = `soak-${process.pid}-${++keySeq}`;
  }
  const body = messagesBody(`soak ${name} ${'word '.repeat(int(1, 30))}`, { stream });
  count(stats.scenarios, name);
  stats.requests++;
  inFlight++;
  const t0 = now();
  let conn;
  let outcome;
  try {
    conn = await Conn.open(gwPort);
    await conn.send({ headers, body });
    if (name === 'client-abort') {
      if (headers['x-mock-fault']) {
        // Before any byte came back: the gateway is waiting for the upstream.
        await sleep(int(0, 400));
      } else {
        // After the head, or a little later, mid-stream.
        await conn.needText('\r\n\r\n', now() + CLIENT_TIMEOUT_MS);
        await sleep(int(0, 300));
      }
      conn.close();
      outcome = 'client_abort';
    } else {
      const res = await conn.readResponse({ timeoutMs: CLIENT_TIMEOUT_MS });
      outcome = classify(res, stream, name, headers);
      if (res.headers['x-sluice-attempts']) count(stats.attempts, res.headers['x-sluice-attempts']);
    }
  } catch (e) {
    outcome = 'client_exception';
    stats.problems.push(`${name}: ${e.message}`);
  } finally {
    if (conn) conn.close();
    inFlight--;
  }
  const ms = now() - t0;
  stats.latencies.push(ms);
  count(stats.outcomes, outcome);
}

function classify(res, stream, name, headers) {
  if (res.timedOut || res.status === 0 && !res.closed) {
    stats.problems.push(`HUNG: ${name} ${JSON.stringify(headers['x-mock-fault'] || '')} stream=${stream}`);
    return 'hung';
  }
  if (res.status === 0) {
    stats.problems.push(`closed without a response: ${name} ${headers['x-mock-fault'] || ''}`);
    return 'closed_without_response';
  }
  const attempts = Number(res.headers['x-sluice-attempts'] || 0);
  if (attempts > 3) stats.problems.push(`${attempts} attempts > max_attempts 3 (${name})`);
  if (res.status !== 200) {
    if (!res.complete) {
      stats.problems.push(`error ${res.status} with an unfinished body (${name})`);
      return 'bad_error_body';
    }
    return `status_${res.status}`;
  }
  const isSse = (res.headers['content-type'] || '').startsWith('text/event-stream');
  if (!isSse) {
    if (!res.complete) {
      // A non-streaming body cut mid-way is signalled by a reset: honest, but count it.
      return 'body_cut';
    }
    try { JSON.parse(res.text); } catch { stats.problems.push(`200 JSON that does not parse (${name})`); return 'bad_json'; }
    return 'ok';
  }
  const types = res.events.map((e) => e.event);
  const last = types.at(-1);
  if (!res.complete) {
    stats.problems.push(`stream not terminated (${name} ${headers['x-mock-fault'] || ''}), last event ${last}`);
    return 'stream_unterminated';
  }
  if (last === 'message_stop') {
    if (types.includes('error')) { stats.problems.push(`error event and message_stop (${name})`); return 'bad_stream'; }
    return 'ok_stream';
  }
  if (last === 'error') {
    if (types.filter((t) => t === 'error').length !== 1) stats.problems.push(`more than one error event (${name})`);
    let type = 'unknown';
    try { type = JSON.parse(res.events.at(-1).data).error.type; } catch {}
    return `stream_error_${type}`;
  }
  stats.problems.push(`stream ended cleanly without message_stop or error (${name} ${headers['x-mock-fault'] || ''}): last ${last}`);
  return 'stream_looks_finished';
}

// ---- main ----

const fmtMiB = (kib) => (kib / 1024).toFixed(1);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function main() {
  console.log(`soak: ${MINUTES} min, ${WORKERS} workers, client deadline ${CLIENT_TIMEOUT_MS} ms, seed ${seed}, binary ${sluiceBin}`);
  const mock = await startMock([], {});
  const config = resilienceConfig({
    providers: [{
      name: 'soak', base_url: mock.url,
      timeouts: { connect_ms: 1000, first_byte_ms: FIRST_BYTE_MS, idle_ms: IDLE_MS, total_ms: TOTAL_MS },
      pool: { max_idle: POOL_MAX_IDLE, idle_timeout_ms: 30000 },
      // Half the requests carry a fault: a breaker with the defaults would stay open most of
      // the time and the faults would never reach the retry and relay paths. This one trips
      // only on long runs of failures, and recovers quickly.
      retry: { max_attempts: 3, base_ms: 20, cap_ms: 200, max_retry_after_ms: 2000, budget_ratio: 0.5 },
      breaker: { consecutive_failures: 25, failure_ratio: 0.9, min_requests: 50, open_for_ms: 500 },
    }],
    server: { threads: THREADS },
  });
  const gw = await startGateway({ config, env: { SLUICE_THREADS: String(THREADS) } });
  const failures = [];
  let sampler;
  try {
    // Warm up: a few clean requests fill the pool a little.
    for (let i = 0; i < 4; i++) {
      const c = await Conn.open(gw.port);
      await c.send({ headers: API_HEADERS, body: messagesBody('warm up', { stream: i % 2 === 0 }) });
      await c.readResponse({ timeoutMs: 5000 });
      c.close();
    }
    await sleep(200);
    const samples = [sample(gw, mock.port, 'start')];
    const tEnd = now() + MINUTES * 60000;
    sampler = setInterval(() => samples.push(sample(gw, mock.port, `run ${((now() - samples[0].t) / 1000).toFixed(0)} s`)), SAMPLE_MS);
    let lastReport = now();
    const worker = async () => {
      while (now() < tEnd) {
        await oneRequest(gw.port);
        if (now() - lastReport > 30000) {
          lastReport = now();
          const s = samples.at(-1);
          console.log(`  ${((now() - samples[0].t) / 1000).toFixed(0)} s: ${stats.requests} requests, RSS ${fmtMiB(s.rssKiB)} MiB, upstream sockets ${s.upstream.total}, fds ${s.fds}, problems ${stats.problems.length}`);
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    clearInterval(sampler);
    const endSample = sample(gw, mock.port, 'end (load over)');
    await sleep(2000);
    const settled = sample(gw, mock.port, 'end +2 s');

    // The gateway still serves.
    const c = await Conn.open(gw.port);
    await c.send({ headers: API_HEADERS, body: messagesBody('after the soak', { stream: true }) });
    const after = await c.readResponse({ timeoutMs: 5000 });
    c.close();
    const health = await (await fetch(`${gw.url}/healthz`)).json();

    // ---- checks ----
    const hung = stats.outcomes.hung || 0;
    if (hung) failures.push(`${hung} hung request(s)`);
    for (const bad of ['stream_looks_finished', 'stream_unterminated', 'bad_stream', 'bad_json', 'bad_error_body', 'closed_without_response', 'client_exception']) {
      if (stats.outcomes[bad]) failures.push(`${stats.outcomes[bad]} × ${bad}`);
    }
    const poolBound = POOL_MAX_IDLE * THREADS;
    if (settled.upstream.total > poolBound) failures.push(`${settled.upstream.total} upstream sockets after the run > idle pool bound ${poolBound}`);
    const mid = samples[Math.floor(samples.length / 2)];
    const peak = Math.max(...samples.map((s) => s.rssKiB), endSample.rssKiB);
    // Unbounded growth shows as a climb over the second half; allocator warm-up in the first.
    const growth = settled.rssKiB - mid.rssKiB;
    // ASan keeps freed memory in quarantine (256 MiB by default), so RSS climbs there anyway.
    const sanitized = readFileSync(sluiceBin).includes('__asan_init');
    if (!sanitized && growth > Math.max(16 * 1024, 0.25 * mid.rssKiB)) failures.push(`RSS grew by ${fmtMiB(growth)} MiB over the second half`);
    if (after.status !== 200 || after.events.at(-1)?.event !== 'message_stop') failures.push(`a clean request after the soak got ${after.status}`);

    // ---- summary ----
    const lat = [...stats.latencies].sort((a, b) => a - b);
    const row = (k, v) => console.log(`  ${k.padEnd(34)} ${v}`);
    console.log('\n== soak summary ==');
    row('duration', `${MINUTES} min, ${WORKERS} workers`);
    row('requests', `${stats.requests} (${(stats.requests / (MINUTES * 60)).toFixed(1)}/s)`);
    row('latency ms p50 / p95 / p99 / max', `${pct(lat, 0.5).toFixed(0)} / ${pct(lat, 0.95).toFixed(0)} / ${pct(lat, 0.99).toFixed(0)} / ${lat.at(-1).toFixed(0)}`);
    console.log('  scenarios:');
    for (const [k, v] of Object.entries(stats.scenarios).sort((a, b) => b[1] - a[1])) row(`    ${k}`, v);
    console.log('  outcomes:');
    for (const [k, v] of Object.entries(stats.outcomes).sort((a, b) => b[1] - a[1])) row(`    ${k}`, v);
    console.log('  x-sluice-attempts:');
    for (const [k, v] of Object.entries(stats.attempts).sort()) row(`    ${k}`, v);
    console.log('  resources (gateway process):');
    console.log(`    ${'sample'.padEnd(22)} ${'RSS MiB'.padStart(8)} ${'fds'.padStart(6)} ${'upstream sockets'.padStart(17)}  states`);
    for (const s of [samples[0], mid, samples.at(-1), endSample, settled]) {
      if (s === mid) s.label = `middle (${s.label})`;
      console.log(`    ${s.label.padEnd(22)} ${fmtMiB(s.rssKiB).padStart(8)} ${String(s.fds).padStart(6)} ${String(s.upstream.total).padStart(17)}  ${JSON.stringify(s.upstream.byState)}`);
    }
    row('    RSS peak', `${fmtMiB(peak)} MiB${sanitized ? ' (sanitizer build: not checked)' : ''}`);
    row('    upstream sockets max during run', Math.max(...samples.map((s) => s.upstream.total)));
    row('    idle pool bound', `${poolBound} (max_idle ${POOL_MAX_IDLE} × ${THREADS} threads)`);
    row('breaker transitions (stderr)', gw.stderr().split('\n').filter((l) => l.includes('"event":"breaker"')).length);
    row('healthz at the end', `${health.status} ${JSON.stringify(health.providers[0].deployments.map((d) => [d.breaker, d.outstanding]))}`);
    if (stats.problems.length) {
      console.log(`  problems (${stats.problems.length}, first 20):`);
      for (const p of stats.problems.slice(0, 20)) console.log(`    ${p}`);
    }
    console.log(failures.length ? `\nFAIL: ${failures.join('; ')}` : '\nPASS: no hung request, no unfinished stream, no leaked upstream socket, RSS bounded');
  } finally {
    clearInterval(sampler);
    await gw.stop();
    await mock.stop();
  }
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 2; });
