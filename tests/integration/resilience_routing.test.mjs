// Resilience, part 3: circuit breakers, deployments and fallbacks (issue: resilience, items 3, 4
// and 7). Breaker state is read from /healthz and from the JSON lines the gateway writes to
// stderr; attempts are counted at each upstream.
//
// Upstreams: `sluice mock` processes, and a scripted upstream (helpers.mjs) that fails whenever a
// request carries `x-script: {"status": …}`. The mock ignores that header, so one request can
// fail on one deployment or provider and succeed on the other.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, sleep } from '../support/harness.mjs';
import {
  messagesBody, postMessages, assertAnthropicError, mockRequestsWith, startScriptedUpstream,
  startResilientGateway, accessLine, healthz, breakerState, breakerEvents, waitFor, now,
} from './helpers.mjs';

let seq = 0;
const tid = (name) => `${name}-${process.pid}-${++seq}`;
const BIG_BUDGET = { budget_min_retries: 100000 };
const NO_BREAKER = { consecutive_failures: 1000000, min_requests: 1000000 };

let mockA;
let mockB;
let scripted;

before(async () => {
  [mockA, mockB, scripted] = await Promise.all([startMock(), startMock(), startScriptedUpstream()]);
});
after(async () => {
  await Promise.all([mockA, mockB].filter(Boolean).map((m) => m.stop()));
  if (scripted) await scripted.close();
});

const plainBody = messagesBody('one two three');
const streamBody = messagesBody('one two three four', { stream: true });
const fail = (status, extra = {}) => JSON.stringify({ status, ...extra });

async function send(gw, headers = {}, { body = plainBody, timeoutMs = 15000 } = {}) {
  const id = headers['x-test-id'] || tid('r');
  const t0 = now();
  const res = await postMessages(gw.port, { body, headers: { 'x-test-id': id, ...headers } }, { timeoutMs });
  return { res, id, elapsed: now() - t0 };
}

describe('circuit breaker', () => {
  let gw;
  before(async () => {
    gw = await startResilientGateway({ providers: [{
      name: 'up', base_url: mockA.url,
      retry: { max_attempts: 1, ...BIG_BUDGET },
      breaker: { consecutive_failures: 3, min_requests: 1000000, open_for_ms: 1000, half_open_probes: 1 },
    }] });
  });
  after(async () => { if (gw) await gw.stop(); });

  test('3 consecutive failures open it; it fails fast with 529 + retry-after; after open_for a probe closes it', async () => {
    let h = await healthz(gw);
    assert.equal(h.status, 'ok');
    assert.equal(await breakerState(gw, 'up#0'), 'closed');

    for (let i = 0; i < 3; i++) {
      const { res } = await send(gw, { 'x-mock-fault': 'status-500' });
      assert.equal(res.status, 500, 'the upstream\'s own failure while closed');
      if (i < 2) assert.equal(await breakerState(gw, 'up#0'), 'closed', `closed after ${i + 1} failure(s)`);
    }
    const tOpened = now();
    h = await healthz(gw);
    assert.equal(h.status, 'degraded');
    assert.equal(h.providers[0].deployments[0].breaker, 'open');

    // Open: the upstream is not asked.
    const fast = await send(gw);
    assertAnthropicError(fast.res, 529, 'overloaded_error');
    assert.match(fast.res.headers['retry-after'] || '', /^[1-9]\d*$/);
    assert.ok(Number(fast.res.headers['retry-after']) <= 1, `retry-after ${fast.res.headers['retry-after']} ≤ open_for (1 s)`);
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', fast.id)).length, 0, 'nothing reached the upstream');
    assert.ok(fast.elapsed < 200, `failed fast (${fast.elapsed.toFixed(0)} ms)`);
    const line = await accessLine(gw, fast.res);
    assert.equal(line.status, 529);
    assert.equal(line.attempts, 0);

    // A streaming request too: 529 before any 200 head.
    const fastStream = await send(gw, {}, { body: streamBody });
    assertAnthropicError(fastStream.res, 529, 'overloaded_error');

    // After open_for: half-open.
    await sleep(Math.max(0, 1000 - (now() - tOpened)) + 50);
    assert.equal(await breakerState(gw, 'up#0'), 'half_open');
    const probe = await send(gw);
    assert.equal(probe.res.status, 200);
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', probe.id)).length, 1);
    // A success is recorded once the answer went out: the client may see it a moment before.
    await waitFor(async () => (await breakerState(gw, 'up#0')) === 'closed', 1000, 10);
    h = await healthz(gw);
    assert.equal(h.status, 'ok');
    assert.equal(h.providers[0].deployments[0].breaker, 'closed');

    const events = breakerEvents(gw).map((e) => [e.deployment, e.from, e.to]);
    assert.deepEqual(events, [['up#0', 'closed', 'open'], ['up#0', 'half_open', 'closed']]);
  });

  test('a failed probe opens it again; while the one probe is in flight others fail fast', async () => {
    for (let i = 0; i < 3; i++) await send(gw, { 'x-mock-fault': 'status-503' });
    assert.equal(await breakerState(gw, 'up#0'), 'open');
    await sleep(1100);
    // The probe fails: open again at once.
    const probe = await send(gw, { 'x-mock-fault': 'status-529' });
    assert.equal(probe.res.status, 529);
    assert.equal(probe.res.json().request_id !== undefined, true);
    assert.equal(await breakerState(gw, 'up#0'), 'open');
    const fast = await send(gw);
    assertAnthropicError(fast.res, 529, 'overloaded_error');
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', fast.id)).length, 0);

    // Next period: a slow successful probe; a request meanwhile is turned away.
    await sleep(1100);
    const slowProbe = send(gw, { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '600' });
    await waitFor(async () => (await healthz(gw)).providers[0].deployments[0].outstanding === 1, 2000, 10);
    const during = await send(gw);
    assertAnthropicError(during.res, 529, 'overloaded_error');
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', during.id)).length, 0, 'only one probe at a time');
    assert.equal((await slowProbe).res.status, 200);
    assert.equal(await waitFor(async () => (await breakerState(gw, 'up#0')) === 'closed', 1000, 10), true);

    const events = breakerEvents(gw).slice(2).map((e) => [e.from, e.to]);
    assert.deepEqual(events, [['closed', 'open'], ['half_open', 'open'], ['half_open', 'closed']]);
  });

  test('429s and other 4xx do not count as failures', async () => {
    for (let i = 0; i < 5; i++) {
      const { res } = await send(gw, { 'x-mock-fault': i % 2 ? 'status-429' : 'status-400', 'x-mock-retry-after': '0' });
      assert.ok(res.status === 429 || res.status === 400);
    }
    assert.equal(await breakerState(gw, 'up#0'), 'closed');
  });

  test('a failure ratio over the window opens it (0.5 of ≥ 10, no 3 in a row)', async () => {
    const g = await startResilientGateway({ providers: [{
      name: 'ratio', base_url: mockA.url, retry: { max_attempts: 1, ...BIG_BUDGET },
      breaker: { consecutive_failures: 3, failure_ratio: 0.5, min_requests: 10, window_ms: 30000, open_for_ms: 30000 },
    }] });
    try {
      for (let i = 0; i < 9; i++) await send(g, i % 2 ? { 'x-mock-fault': 'status-500' } : {});
      assert.equal(await breakerState(g, 'ratio#0'), 'closed', '4 failures of 9: below min_requests');
      await sleep(50); // the last success is recorded just after its answer went out
      await send(g, { 'x-mock-fault': 'status-500' });
      assert.equal(await breakerState(g, 'ratio#0'), 'open', '5 failures of 10');
      assert.equal(breakerEvents(g).length, 1);
    } finally { await g.stop(); }
  });

  test('with retries, one request that fails 3 times opens a 3-failure breaker; the next fails fast', async () => {
    const g = await startResilientGateway({ providers: [{
      name: 'r', base_url: mockA.url, retry: { max_attempts: 3, base_ms: 10, cap_ms: 20, ...BIG_BUDGET },
      breaker: { consecutive_failures: 3, min_requests: 1000000, open_for_ms: 30000 },
    }] });
    try {
      const first = await send(g, { 'x-mock-fault': 'status-529' });
      assert.equal(first.res.status, 529);
      assert.equal(first.res.headers['x-sluice-attempts'], '3');
      assert.equal((await mockRequestsWith(mockA, 'x-test-id', first.id)).length, 3);
      const second = await send(g);
      assertAnthropicError(second.res, 529, 'overloaded_error');
      assert.ok(Number(second.res.headers['retry-after']) >= 29, `retry-after ${second.res.headers['retry-after']}`);
      assert.equal((await mockRequestsWith(mockA, 'x-test-id', second.id)).length, 0);
    } finally { await g.stop(); }
  });
});

describe('deployments', () => {
  test('two deployments, weights 1:3, 40 concurrent requests: both serve, about 10:30', async (t) => {
    const gw = await startResilientGateway({ providers: [{
      name: 'pool', base_url: mockA.url, deployments: [{ base_url: mockB.url, weight: 3 }],
      retry: { max_attempts: 1 }, breaker: NO_BREAKER,
    }] });
    try {
      const tag = tid('weights');
      const results = await Promise.all(Array.from({ length: 40 }, () => send(gw, { 'x-batch': tag, 'x-mock-tokens-per-second': '10' }, { body: messagesBody('w') })));
      for (const r of results) assert.equal(r.res.status, 200);
      const a = (await mockRequestsWith(mockA, 'x-batch', tag)).length;
      const b = (await mockRequestsWith(mockB, 'x-batch', tag)).length;
      t.diagnostic(`deployment #0 (weight 1): ${a}, #1 (weight 3): ${b}`);
      assert.equal(a + b, 40);
      assert.ok(a >= 5 && a <= 15, `deployment #0 (weight 1) served ${a} of 40`);
      assert.ok(b >= 25 && b <= 35, `deployment #1 (weight 3) served ${b} of 40`);
      const labels = new Set((await Promise.all(results.map((r) => accessLine(gw, r.res)))).map((l) => l.provider));
      assert.deepEqual([...labels].sort(), ['pool#0', 'pool#1']);
    } finally { await gw.stop(); }
  });

  test('sequential requests are spread by weight too (1:3 over 40)', async () => {
    const gw = await startResilientGateway({ providers: [{
      name: 'pool', base_url: mockA.url, deployments: [{ base_url: mockB.url, weight: 3 }],
      retry: { max_attempts: 1 }, breaker: NO_BREAKER,
    }] });
    try {
      const tag = tid('seq');
      for (let i = 0; i < 40; i++) assert.equal((await send(gw, { 'x-batch': tag })).res.status, 200);
      const a = (await mockRequestsWith(mockA, 'x-batch', tag)).length;
      const b = (await mockRequestsWith(mockB, 'x-batch', tag)).length;
      assert.ok(a >= 3 && a <= 18, `deployment #0 (weight 1) served ${a} of 40`);
      assert.ok(b >= 22 && b <= 37, `deployment #1 (weight 3) served ${b} of 40`);
    } finally { await gw.stop(); }
  });

  test('one deployment failing: its breaker opens and the other serves everything, no client-visible error', async () => {
    const gw = await startResilientGateway({ providers: [{
      name: 'pool', base_url: scripted.url, deployments: [{ base_url: mockA.url, weight: 1 }],
      retry: { max_attempts: 3, base_ms: 10, cap_ms: 20, ...BIG_BUDGET },
      breaker: { consecutive_failures: 2, min_requests: 1000000, open_for_ms: 60000 },
    }] });
    try {
      const tag = tid('failover');
      const results = [];
      for (let i = 0; i < 10; i++) results.push(await send(gw, { 'x-test-id': tag, 'x-script': fail(503) }));
      for (const r of results) assert.equal(r.res.status, 200, r.res.text);
      assert.ok(scripted.count(tag) <= 2, `the failing deployment got ${scripted.count(tag)} requests (≤ consecutive_failures)`);
      assert.equal((await mockRequestsWith(mockA, 'x-test-id', tag)).length, 10);
      const h = await healthz(gw);
      assert.equal(h.status, 'degraded');
      assert.deepEqual(h.providers[0].deployments.map((d) => [d.deployment, d.breaker]), [['pool#0', 'open'], ['pool#1', 'closed']]);
      assert.deepEqual(breakerEvents(gw).map((e) => [e.deployment, e.to]), [['pool#0', 'open']]);
      const last = await accessLine(gw, results.at(-1).res);
      assert.equal(last.provider, 'pool#1');
      assert.equal(last.attempts, 1);
    } finally { await gw.stop(); }
  });

  test('a retry goes to another deployment when one is available (no breaker involved)', async () => {
    const gw = await startResilientGateway({ providers: [{
      name: 'pool', base_url: scripted.url, deployments: [{ base_url: mockA.url, weight: 1 }],
      retry: { max_attempts: 2, base_ms: 10, cap_ms: 20, ...BIG_BUDGET }, breaker: NO_BREAKER,
    }] });
    try {
      const { res, id } = await send(gw, { 'x-script': fail(503) });
      assert.equal(scripted.count(id), 1, 'the failing deployment was tried once');
      assert.equal(res.status, 200, 'the retry went to the healthy deployment');
    } finally { await gw.stop(); }
  });
});

describe('fallbacks', () => {
  let gwFb; // primary (scripted) → backup (mock A)
  let gwFbModel; // primary (scripted) → backup (mock B) with a model override
  let gwFbBreaker; // primary with a 2-failure breaker → backup (mock A)
  before(async () => {
    const primary = (extra) => ({ name: 'primary', base_url: scripted.url, retry: { max_attempts: 2, base_ms: 10, cap_ms: 20, ...BIG_BUDGET }, breaker: NO_BREAKER, ...extra });
    [gwFb, gwFbModel, gwFbBreaker] = await Promise.all([
      startResilientGateway({ providers: [primary({ fallbacks: [{ provider: 'backup' }] }), { name: 'backup', base_url: mockA.url, retry: { max_attempts: 2, base_ms: 10, cap_ms: 20, ...BIG_BUDGET }, breaker: NO_BREAKER }] }),
      startResilientGateway({ providers: [primary({ fallbacks: [{ provider: 'backup', model: 'claude-fallback-model' }] }), { name: 'backup', base_url: mockB.url }] }),
      startResilientGateway({ providers: [
        primary({ retry: { max_attempts: 1, ...BIG_BUDGET }, breaker: { consecutive_failures: 2, min_requests: 1000000, open_for_ms: 60000 }, fallbacks: [{ provider: 'backup' }] }),
        { name: 'backup', base_url: mockA.url },
      ] }),
    ]);
  });
  after(async () => { await Promise.all([gwFb, gwFbModel, gwFbBreaker].filter(Boolean).map((g) => g.stop())); });

  test('primary exhausts its retries (529 twice) → the fallback answers; attempts add up', async () => {
    const { res, id } = await send(gwFb, { 'x-script': fail(529) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().content[0].text, 'Hello from sluice mock! You said: one two three');
    assert.equal(scripted.count(id), 2, 'primary: max_attempts');
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', id)).length, 1);
    assert.equal(res.headers['x-sluice-attempts'], '3');
    const line = await accessLine(gwFb, res);
    assert.equal(line.provider, 'backup#0');
    assert.equal(line.attempts, 3);
  });

  test('the same for a stream: one clean stream from the fallback', async () => {
    const { res, id } = await send(gwFb, { 'x-script': fail(503) }, { body: streamBody });
    assert.equal(res.status, 200);
    assert.equal(res.events.at(-1).event, 'message_stop');
    assert.equal(res.events.filter((e) => e.event === 'message_start').length, 1);
    assert.equal(scripted.count(id), 2);
  });

  test('primary 429 (retryable) → fallback; primary 400 → no fallback, the 400 as is', async () => {
    const r429 = await send(gwFb, { 'x-script': fail(429, { headers: { 'retry-after-ms': '10' } }) });
    assert.equal(r429.res.status, 200);
    assert.equal(scripted.count(r429.id), 2);
    const r400 = await send(gwFb, { 'x-script': fail(400) });
    assert.equal(r400.res.status, 400);
    assert.equal(scripted.count(r400.id), 1);
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', r400.id)).length, 0, 'a client error is not the upstream\'s fault');
  });

  test('primary and fallback both failing → the fallback\'s own error after all attempts, x-should-retry: false', async () => {
    const { res, id } = await send(gwFb, { 'x-script': fail(503), 'x-mock-fault': 'status-529' });
    assert.equal(scripted.count(id), 2);
    assert.equal((await mockRequestsWith(mockA, 'x-test-id', id)).length, 2);
    assert.equal(res.status, 529);
    assert.equal(res.json().error.type, 'overloaded_error');
    assert.equal(res.headers['x-sluice-attempts'], '4');
    assert.equal(res.headers['x-should-retry'], 'false');
  });

  test('a fallback with model: arrives upstream with that model, the rest of the body unchanged', async () => {
    const { res, id } = await send(gwFbModel, { 'x-script': fail(500) }, { body: messagesBody('keep this prompt', { temperature: 0.5 }) });
    assert.equal(res.status, 200);
    const recs = await mockRequestsWith(mockB, 'x-test-id', id);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].body.model, 'claude-fallback-model');
    assert.deepEqual(recs[0].body.messages, [{ role: 'user', content: 'keep this prompt' }]);
    assert.equal(recs[0].body.temperature, 0.5);
    assert.equal(recs[0].body.max_tokens, 256);
    assert.equal(res.json().model, 'claude-fallback-model');
    // The primary saw the client's model.
    assert.ok(scripted.entries(id).length === 2);
  });

  test('primary\'s breaker open → straight to the fallback, the primary not asked', async () => {
    const tag = tid('fb-breaker');
    for (let i = 0; i < 2; i++) {
      const { res } = await send(gwFbBreaker, { 'x-test-id': tag, 'x-script': fail(503) });
      assert.equal(res.status, 200);
    }
    assert.equal(scripted.count(tag), 2);
    assert.equal(await breakerState(gwFbBreaker, 'primary#0'), 'open');
    const { res, id } = await send(gwFbBreaker, { 'x-script': fail(503) });
    assert.equal(res.status, 200);
    assert.equal(scripted.count(id), 0, 'the open breaker kept the request away from the primary');
    assert.equal(res.headers['x-sluice-attempts'], '1');
    assert.equal((await accessLine(gwFbBreaker, res)).provider, 'backup#0');
    const h = await healthz(gwFbBreaker);
    assert.equal(h.status, 'degraded');
    assert.deepEqual(h.providers.map((p) => p.name), ['primary', 'backup']);
    assert.equal(h.providers[1].deployments[0].breaker, 'closed');
  });
});
