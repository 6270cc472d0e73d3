// Resilience, part 2: how long the gateway waits (issue: resilience, items 1, 2 and 7). Backoff
// with full jitter within its bounds, the upstream's retry-after-ms / retry-after (seconds or
// HTTP date) honoured, a retry-after beyond max_retry_after_ms or past the deadline passed to the
// client at once; and every tiered timeout: connect, first byte, idle gap, total.
//
// Waits are measured where they happen, at the upstream: the time between two attempts of the
// same request arriving. Bounds leave room for the ASan build (2-3x slower) on a busy machine.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from '../support/harness.mjs';
import {
  messagesBody, postMessages, assertAnthropicError, mockRequestsWith, startScriptedUpstream,
  startResilientGateway, accessLine, startBlackHole, tcpSocketsTo, waitFor, now,
} from './helpers.mjs';

let seq = 0;
const tid = (name) => `${name}-${process.pid}-${++seq}`;
// Timer slack: an attempt may be recorded a little late, the one before it a little late too.
const SLACK = 15;
// What a retry costs on top of its wait (new connection, request, scheduling), ASan included.
const OVERHEAD = 150;

const NO_BREAKER = { consecutive_failures: 1000000, min_requests: 1000000 };
const BIG_BUDGET = { budget_min_retries: 100000 };

let mock;
let scripted;
let gwJitter; // base 100, cap 400, 3 attempts
let gwCap; // base 100, cap 150, 4 attempts
let gwHints; // retry-after handling: base 20, max_retry_after 2500, total 10 s
let gwShortDeadline; // total_ms 1500
let gwTimeouts; // first_byte 300, idle 500, total 5000 against the mock
let gwTotal; // total_ms 700 against the mock

before(async () => {
  [mock, scripted] = await Promise.all([startMock(), startScriptedUpstream()]);
  const p = (base_url, retry, extra = {}) => ({ providers: [{ name: 'up', base_url, retry: { ...BIG_BUDGET, ...retry }, breaker: NO_BREAKER, ...extra }] });
  [gwJitter, gwCap, gwHints, gwShortDeadline, gwTimeouts, gwTotal] = await Promise.all([
    startResilientGateway(p(scripted.url, { max_attempts: 3, base_ms: 100, cap_ms: 400 })),
    startResilientGateway(p(scripted.url, { max_attempts: 4, base_ms: 100, cap_ms: 150 })),
    startResilientGateway(p(scripted.url, { max_attempts: 3, base_ms: 20, cap_ms: 40, max_retry_after_ms: 2500 }, { timeouts: { total_ms: 10000 } })),
    startResilientGateway(p(scripted.url, { max_attempts: 3, base_ms: 20, cap_ms: 40 }, { timeouts: { total_ms: 1500 } })),
    startResilientGateway(p(mock.url, { max_attempts: 3, base_ms: 20, cap_ms: 40 }, { timeouts: { first_byte_ms: 300, idle_ms: 500, total_ms: 5000 } })),
    startResilientGateway(p(mock.url, { max_attempts: 3, base_ms: 20, cap_ms: 40 }, { timeouts: { total_ms: 700, first_byte_ms: 300 } })),
  ]);
});

after(async () => {
  await Promise.all([gwJitter, gwCap, gwHints, gwShortDeadline, gwTimeouts, gwTotal].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (scripted) await scripted.close();
});

const plainBody = messagesBody('one two three');
const streamBody = messagesBody('one two three four five six', { stream: true });

async function scriptedRequest(gw, script, { body = plainBody, timeoutMs = 15000 } = {}) {
  const id = tid('s');
  const t0 = now();
  const res = await postMessages(gw.port, { body, headers: { 'x-test-id': id, 'x-script': JSON.stringify(script) } }, { timeoutMs });
  const elapsed = now() - t0;
  const times = scripted.entries(id).map((e) => e.t);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  return { res, id, elapsed, attempts: times.length, gaps };
}

async function mockRequest(gw, headers, { body = plainBody, timeoutMs = 15000 } = {}) {
  const id = tid('m');
  const t0 = now();
  const res = await postMessages(gw.port, { body, headers: { 'x-test-id': id, ...headers } }, { timeoutMs });
  const elapsed = now() - t0;
  return { res, id, elapsed, attempts: (await mockRequestsWith(mock, 'x-test-id', id)).length };
}

describe('backoff: exponential with full jitter', () => {
  test('base 100 ms, cap 400 ms, 3 attempts: waits uniform in [0, 100] then [0, 200]; total ≤ 300 ms + overhead', async (t) => {
    const runs = await Promise.all(Array.from({ length: 10 }, () => scriptedRequest(gwJitter, { status: 503 })));
    const normalized = [];
    for (const r of runs) {
      assert.equal(r.attempts, 3);
      assert.equal(r.res.status, 503);
      assert.equal(r.res.headers['x-should-retry'], 'false');
      const [g1, g2] = r.gaps;
      assert.ok(g1 <= 100 + OVERHEAD, `first wait ${g1.toFixed(0)} ms ≤ base (100) + overhead`);
      assert.ok(g2 <= 200 + OVERHEAD, `second wait ${g2.toFixed(0)} ms ≤ 2·base (200) + overhead`);
      assert.ok(g1 + g2 <= 300 + 2 * OVERHEAD, `3 attempts spread over ${(g1 + g2).toFixed(0)} ms`);
      assert.ok(r.elapsed <= 300 + 3 * OVERHEAD + 200, `client waited ${r.elapsed.toFixed(0)} ms`);
      normalized.push(g1 / 100, g2 / 200);
    }
    const mean = normalized.reduce((a, b) => a + b, 0) / normalized.length;
    t.diagnostic(`20 waits as fractions of their ceiling: min ${Math.min(...normalized).toFixed(2)}, mean ${mean.toFixed(2)}, max ${Math.max(...normalized).toFixed(2)}`);
    // Full jitter: spread over [0, ceiling], not pinned to it (a fixed backoff would give ~1.0
    // every time) and not zero (no backoff would give ~0.0 every time). P(false failure) < 1e-6.
    assert.ok(Math.min(...normalized) < 0.5, 'some waits are well below their ceiling');
    assert.ok(Math.max(...normalized) > 0.4, 'some waits are well above zero');
    assert.ok(mean > 0.15 && mean < 0.9, `mean fraction ${mean.toFixed(2)} is about 0.5`);
  });

  test('the cap bounds the later waits: base 100, cap 150, 4 attempts → waits ≤ 100, 150, 150', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, () => scriptedRequest(gwCap, { status: 529 })));
    for (const r of runs) {
      assert.equal(r.attempts, 4);
      const [g1, g2, g3] = r.gaps;
      assert.ok(g1 <= 100 + OVERHEAD, `wait 1: ${g1.toFixed(0)} ms`);
      assert.ok(g2 <= 150 + OVERHEAD / 2, `wait 2: ${g2.toFixed(0)} ms ≤ cap 150 (uncapped: 200)`);
      assert.ok(g3 <= 150 + OVERHEAD / 2, `wait 3: ${g3.toFixed(0)} ms ≤ cap 150 (uncapped: 400)`);
    }
  });
});

describe('waits the upstream asks for', () => {
  test('retry-after: 1 → the next attempt ≥ 1 s later', async () => {
    const r = await scriptedRequest(gwHints, { status: 429, failTimes: 1, headers: { 'retry-after': '1' } });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
    assert.ok(r.gaps[0] >= 1000 - SLACK, `waited ${r.gaps[0].toFixed(0)} ms`);
    assert.ok(r.gaps[0] <= 1000 + OVERHEAD * 2, `waited ${r.gaps[0].toFixed(0)} ms`);
  });

  test('retry-after: 0.4 (fractional seconds) → ≈ 400 ms', async () => {
    const r = await scriptedRequest(gwHints, { status: 503, failTimes: 1, headers: { 'retry-after': '0.4' } });
    assert.equal(r.attempts, 2);
    assert.ok(r.gaps[0] >= 400 - SLACK && r.gaps[0] <= 400 + OVERHEAD * 2, `waited ${r.gaps[0].toFixed(0)} ms`);
  });

  test('retry-after-ms: 300 wins over retry-after: 2 → ≈ 300 ms', async () => {
    const r = await scriptedRequest(gwHints, { status: 529, failTimes: 1, headers: { 'retry-after-ms': '300', 'retry-after': '2' } });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
    assert.ok(r.gaps[0] >= 300 - SLACK && r.gaps[0] <= 300 + OVERHEAD * 2, `waited ${r.gaps[0].toFixed(0)} ms`);
  });

  test('the mock\'s retry-after: 1 / retry-after-ms: 1000 on a 429 → ≈ 1 s', async () => {
    const key = tid('k');
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'status-429', 'x-mock-retry-after': '1', 'x-mock-fail-times': '1', 'x-mock-fault-key': key });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
    assert.ok(r.elapsed >= 1000 - SLACK && r.elapsed <= 1000 + OVERHEAD * 3, `took ${r.elapsed.toFixed(0)} ms`);
  });

  test('retry-after as an HTTP date (~2 s ahead, whole seconds) → waited until then', async () => {
    const r = await scriptedRequest(gwHints, { status: 503, failTimes: 1, retryAfterDateIn: 2000 });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
    // The date has 1 s resolution: the wait is between 1 and 2 s (a backoff would be ≤ 40 ms).
    assert.ok(r.gaps[0] >= 1000 - SLACK - 50, `waited ${r.gaps[0].toFixed(0)} ms`);
    assert.ok(r.gaps[0] <= 2000 + OVERHEAD * 2, `waited ${r.gaps[0].toFixed(0)} ms`);
  });

  test('an HTTP date in the past → ignored, the usual backoff', async () => {
    const r = await scriptedRequest(gwHints, { status: 503, failTimes: 1, retryAfterDateIn: -60000 });
    assert.equal(r.attempts, 2);
    assert.ok(r.gaps[0] <= 40 + OVERHEAD, `waited ${r.gaps[0].toFixed(0)} ms`);
  });

  test('retry-after beyond max_retry_after_ms (5 s > 2.5 s) → not retried; the 429 and its retry-after go to the client at once', async () => {
    const r = await scriptedRequest(gwHints, { status: 429, headers: { 'retry-after': '5' } });
    assert.equal(r.attempts, 1);
    assert.equal(r.res.status, 429);
    assert.equal(r.res.headers['retry-after'], '5');
    assert.notEqual(r.res.headers['x-should-retry'], 'false', 'sluice did not retry: the client may, after retry-after');
    assert.ok(r.elapsed < 1000, `answered in ${r.elapsed.toFixed(0)} ms`);
  });

  test('the same from the mock (x-mock-retry-after: 5 → retry-after 5, retry-after-ms 5000)', async () => {
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'status-429', 'x-mock-retry-after': '5' });
    // gwTimeouts keeps the default max_retry_after_ms (30 s) but a total of 5 s: the wait
    // would pass the deadline, which ends the same way.
    assert.equal(r.attempts, 1);
    assert.equal(r.res.status, 429);
    assert.equal(r.res.headers['retry-after'], '5');
    assert.equal(r.res.headers['retry-after-ms'], '5000');
    assert.ok(r.elapsed < 1000, `answered in ${r.elapsed.toFixed(0)} ms`);
  });

  test('a wait that would pass total_ms (retry-after 3 s, total 1.5 s) → the upstream\'s 529 with its headers, at once', async () => {
    const r = await scriptedRequest(gwShortDeadline, { status: 529, reason: 'Overloaded', headers: { 'retry-after': '3', 'x-upstream-marker': 'kept' } });
    assert.equal(r.attempts, 1);
    assert.equal(r.res.status, 529);
    assert.equal(r.res.headers['retry-after'], '3');
    assert.equal(r.res.headers['x-upstream-marker'], 'kept');
    assert.equal(r.res.json().error.type, 'overloaded_error');
    assert.ok(r.elapsed < 1000, `answered in ${r.elapsed.toFixed(0)} ms`);
  });

  test('retry-after-ms that fits the deadline → retried (the deadline check is not over-eager)', async () => {
    const r = await scriptedRequest(gwShortDeadline, { status: 529, failTimes: 1, headers: { 'retry-after-ms': '200' } });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
  });
});

describe('tiered timeouts', () => {
  test('connect_ms: an upstream that never completes the handshake → retried, then 504 timeout_error', async (t) => {
    const hole = await startBlackHole();
    if (!hole) { t.skip('python3 not available to make a listener that never accepts'); return; }
    let gw;
    try {
      gw = await startResilientGateway({ providers: [{ name: 'up', base_url: `http://127.0.0.1:${hole.port}`, retry: { max_attempts: 2, base_ms: 10, cap_ms: 20, ...BIG_BUDGET }, breaker: NO_BREAKER, timeouts: { connect_ms: 300 } }] });
      const t0 = now();
      const pending = postMessages(gw.port, { body: plainBody }, { timeoutMs: 10000 });
      // The trick works here: the gateway's connect hangs in SYN_SENT.
      const syn = await waitFor(() => tcpSocketsTo(gw.proc.pid, hole.port).byState.SYN_SENT, 1000, 5);
      assert.equal(syn, 1, 'the gateway is stuck connecting');
      const res = await pending;
      const elapsed = now() - t0;
      assertAnthropicError(res, 504, 'timeout_error');
      assert.equal(res.headers['x-sluice-attempts'], '2');
      assert.equal(res.headers['x-should-retry'], 'false');
      assert.ok(elapsed >= 2 * 300 - SLACK, `two connect timeouts: ${elapsed.toFixed(0)} ms`);
      assert.ok(elapsed <= 2 * 300 + 20 + 3 * OVERHEAD, `two connect timeouts: ${elapsed.toFixed(0)} ms`);
      const line = await accessLine(gw, res);
      assert.equal(line.attempts, 2);
      assert.equal(line.status, 504);
    } finally {
      if (gw) await gw.stop();
      hole.stop();
    }
  });

  test('first_byte_ms (300) on a stream: slow first byte every time → 3 attempts, then 504 timeout_error', async () => {
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '3000' }, { body: streamBody });
    assert.equal(r.attempts, 3);
    assertAnthropicError(r.res, 504, 'timeout_error');
    assert.equal(r.res.headers['x-sluice-attempts'], '3');
    assert.equal(r.res.headers['x-should-retry'], 'false');
    assert.ok(r.elapsed >= 3 * 300 - SLACK, `took ${r.elapsed.toFixed(0)} ms`);
    assert.ok(r.elapsed <= 3 * 300 + 80 + 3 * OVERHEAD, `took ${r.elapsed.toFixed(0)} ms (not the mock's 3 s)`);
  });

  test('first_byte_ms: slow once, then fast → one clean stream after ≈ 300 ms', async () => {
    const key = tid('k-fb');
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '3000', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
    assert.equal(r.res.events.at(-1).event, 'message_stop');
    assert.equal(r.res.headers['x-sluice-attempts'], '2');
    assert.ok(r.elapsed >= 300 - SLACK && r.elapsed < 300 + 40 + 3 * OVERHEAD, `took ${r.elapsed.toFixed(0)} ms`);
  });

  test('first_byte_ms does not apply to a non-streaming request (only total does)', async () => {
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '800' });
    assert.equal(r.attempts, 1);
    assert.equal(r.res.status, 200, r.res.text);
    assert.ok(r.elapsed >= 800 - SLACK);
  });

  test('idle_ms (500) mid-stream (stall-after-3) → one event: error (timeout_error) ≈ 500 ms after the last event; not retried', async () => {
    const key = tid('k-idle');
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'stall-after-3', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody, timeoutMs: 8000 });
    assert.equal(r.attempts, 1, 'after content: never retried');
    assert.equal(r.res.status, 200);
    assert.ok(r.res.complete, 'the body ends after the error event');
    const types = r.res.events.map((e) => e.event);
    assert.deepEqual(types, ['message_start', 'content_block_start', 'ping', 'error']);
    assert.equal(JSON.parse(r.res.events.at(-1).data).error.type, 'timeout_error');
    const gap = r.res.events.at(-1).t - r.res.events[2].t;
    assert.ok(gap >= 500 - SLACK - 30, `error ${gap.toFixed(0)} ms after the last event`);
    assert.ok(gap <= 500 + 2 * OVERHEAD, `error ${gap.toFixed(0)} ms after the last event`);
    const line = await accessLine(gwTimeouts, r.res);
    assert.match(line.error || '', /timeout|timed out/i, 'the access log records the idle timeout');
  });

  test('idle_ms before content (stall-after-1: only message_start) → retried invisibly', async () => {
    const key = tid('k-idle-early');
    const r = await mockRequest(gwTimeouts, { 'x-mock-fault': 'stall-after-1', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody, timeoutMs: 8000 });
    assert.equal(r.attempts, 2);
    assert.equal(r.res.status, 200);
    const types = r.res.events.map((e) => e.event);
    assert.equal(types.filter((x) => x === 'message_start').length, 1);
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(!types.includes('error'));
    assert.ok(r.elapsed >= 500 - SLACK, `took ${r.elapsed.toFixed(0)} ms`);
  });

  test('total_ms (700) on a slow non-streaming answer → 504 timeout_error after ≈ 700 ms, no retry past the deadline', async () => {
    const r = await mockRequest(gwTotal, { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '3000' });
    assert.equal(r.attempts, 1);
    assertAnthropicError(r.res, 504, 'timeout_error');
    assert.ok(r.elapsed >= 700 - SLACK, `took ${r.elapsed.toFixed(0)} ms`);
    assert.ok(r.elapsed <= 700 + 2 * OVERHEAD, `took ${r.elapsed.toFixed(0)} ms`);
  });

  test('total_ms (700) on a stream that keeps going (10 tokens/s) → event: error (timeout_error) at ≈ 700 ms', async () => {
    const r = await mockRequest(gwTotal, { 'x-mock-tokens-per-second': '10' }, { body: messagesBody('w '.repeat(40), { stream: true }) });
    assert.equal(r.attempts, 1);
    assert.equal(r.res.status, 200);
    const types = r.res.events.map((e) => e.event);
    assert.equal(types.at(-1), 'error', `events: ${types}`);
    assert.ok(types.includes('content_block_delta'));
    assert.ok(!types.includes('message_stop'));
    assert.equal(JSON.parse(r.res.events.at(-1).data).error.type, 'timeout_error');
    assert.ok(r.elapsed >= 700 - SLACK && r.elapsed <= 700 + 2 * OVERHEAD, `took ${r.elapsed.toFixed(0)} ms`);
  });
});
