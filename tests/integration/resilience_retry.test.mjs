// Resilience, part 1: the retry table end to end (issue: resilience, item 7). Every row of the
// table in src/upstream/retry_policy.hpp is driven through `sluice mock`'s fault injection (or an
// upstream scripted here when the mock cannot send the exact headers) and the attempts are
// counted where they arrive, at the upstream. Also the retry budget, and what the official
// Anthropic SDK reports through the gateway.
//
// Attempts are counted per test with a unique `x-test-id` header, which the gateway forwards and
// the upstream records. Breakers never open here (their own file: resilience_breaker.test.mjs).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMock } from '../support/harness.mjs';
import {
  messagesBody, postMessages, closedPort, assertAnthropicError, mockRequestsWith, startScriptedUpstream,
  startResilientGateway, accessLine, now,
} from './helpers.mjs';

const here = new URL('.', import.meta.url).pathname;
const sdkPath = join(here, '..', 'e2e', 'node_modules', '@anthropic-ai', 'sdk', 'index.mjs');

let seq = 0;
const tid = (name) => `${name}-${process.pid}-${++seq}`;

const MAX_ATTEMPTS = 3;
// Fast waits; a budget and breakers that never get in the way.
const RETRY = { max_attempts: MAX_ATTEMPTS, base_ms: 20, cap_ms: 40, budget_min_retries: 100000 };
const NO_BREAKER = { consecutive_failures: 1000000, min_requests: 1000000 };

let mock;
let scripted;
let gwMock; // in front of sluice mock
let gwScripted; // in front of the scripted upstream
let gwRefused; // in front of a closed port
let gwKeepGoing; // exhausted_should_retry_false: false (the SDK then retries on top)

before(async () => {
  [mock, scripted] = await Promise.all([startMock(), startScriptedUpstream()]);
  const refused = await closedPort();
  const provider = (base_url, extra = {}) => ({ providers: [{ name: 'up', base_url, retry: RETRY, breaker: NO_BREAKER, ...extra }] });
  [gwMock, gwScripted, gwRefused, gwKeepGoing] = await Promise.all([
    startResilientGateway(provider(mock.url)),
    startResilientGateway(provider(scripted.url)),
    startResilientGateway(provider(`http://127.0.0.1:${refused}`, { timeouts: { connect_ms: 1000 } })),
    startResilientGateway(provider(mock.url, { retry: { ...RETRY, exhausted_should_retry_false: false } })),
  ]);
});

after(async () => {
  await Promise.all([gwMock, gwScripted, gwRefused, gwKeepGoing].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (scripted) await scripted.close();
});

const plainBody = messagesBody('one two three');
const streamBody = messagesBody('one two three four five six', { stream: true });

// A request through gwMock marked with a fresh test id; returns { res, id, attempts } where
// attempts = how many requests with that id reached the mock.
async function viaMock(headers, { body = plainBody, gw = gwMock, timeoutMs = 15000 } = {}) {
  const id = tid('m');
  const res = await postMessages(gw.port, { body, headers: { 'x-test-id': id, ...headers } }, { timeoutMs });
  const attempts = (await mockRequestsWith(mock, 'x-test-id', id)).length;
  return { res, id, attempts };
}

async function viaScripted(script, { body = plainBody } = {}) {
  const id = tid('s');
  const res = await postMessages(gwScripted.port, { body, headers: { 'x-test-id': id, 'x-script': JSON.stringify(script) } });
  return { res, id, attempts: scripted.count(id) };
}

// Mock fault headers for a status; a 429 gets `retry-after: 0` (ignored: not positive) so that
// the gateway's own short backoff applies instead of the mock's default 1 s.
const statusFault = (status) => ({ 'x-mock-fault': `status-${status}`, ...(status === 429 ? { 'x-mock-retry-after': '0' } : {}) });

describe('retried statuses', () => {
  for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) {
    test(`${status} every time → ${MAX_ATTEMPTS} attempts, then the upstream's ${status} with x-should-retry: false`, async () => {
      const { res, attempts } = await viaMock(statusFault(status));
      assert.equal(attempts, MAX_ATTEMPTS, 'attempts seen by the upstream');
      assert.equal(res.status, status, res.text);
      assert.equal(res.headers['x-sluice-attempts'], String(MAX_ATTEMPTS));
      assert.equal(res.headers['x-should-retry'], 'false');
      const body = res.json();
      assert.equal(body.type, 'error', 'the upstream\'s own error body');
      assert.ok(body.request_id, 'the mock\'s request id is in the body');
      const line = await accessLine(gwMock, res);
      assert.equal(line.attempts, MAX_ATTEMPTS);
      assert.equal(line.status, status);
      assert.equal(line.provider, 'up#0');
    });

    test(`${status} twice, then success → 200 on attempt 3, nothing of the failures visible`, async () => {
      const key = tid(`k${status}`);
      const { res, attempts } = await viaMock({ ...statusFault(status), 'x-mock-fail-times': '2', 'x-mock-fault-key': key });
      assert.equal(attempts, 3);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['x-sluice-attempts'], '3');
      assert.equal(res.headers['x-should-retry'], undefined);
      assert.equal(res.json().content[0].text, 'Hello from sluice mock! You said: one two three');
    });
  }

  test('a streaming request: 529 once, then the stream → one clean stream, 2 attempts', async () => {
    const key = tid('k-stream');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'status-529', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody });
    assert.equal(attempts, 2);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-sluice-attempts'], '2');
    const types = res.events.map((e) => e.event);
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.equal(types.filter((t) => t === 'message_start').length, 1);
  });

  test('a streaming request: 529 every time → the 529 after 3 attempts (no 200 head was sent)', async () => {
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'status-529' }, { body: streamBody });
    assert.equal(attempts, MAX_ATTEMPTS);
    assert.equal(res.status, 529);
    assert.equal(res.json().error.type, 'overloaded_error');
    assert.equal(res.headers['x-should-retry'], 'false');
  });
});

describe('statuses never retried', () => {
  for (const status of [400, 401, 403, 404, 413, 422, 501]) {
    test(`${status} → 1 attempt, passed through as is`, async () => {
      const { res, attempts } = await viaMock(statusFault(status));
      assert.equal(attempts, 1, 'attempts seen by the upstream');
      assert.equal(res.status, status, res.text);
      assert.equal(res.headers['x-sluice-attempts'], '1');
      assert.equal(res.headers['x-should-retry'], undefined, 'sluice spent no retries: it does not speak for the client');
      assert.equal(res.json().type, 'error');
      assert.equal((await accessLine(gwMock, res)).attempts, 1);
    });
  }
});

describe('x-should-retry from the upstream', () => {
  test('503 with x-should-retry: false → 1 attempt, the 503 passed on', async () => {
    const { res, attempts } = await viaScripted({ status: 503, headers: { 'x-should-retry': 'false' } });
    assert.equal(attempts, 1);
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-should-retry'], 'false');
    assert.equal(res.headers['x-sluice-attempts'], '1');
  });

  test('501 with x-should-retry: true → retried (3 attempts)', async () => {
    const { res, attempts } = await viaScripted({ status: 501, headers: { 'x-should-retry': 'true' } });
    assert.equal(attempts, MAX_ATTEMPTS);
    assert.equal(res.status, 501);
    assert.equal(res.headers['x-sluice-attempts'], String(MAX_ATTEMPTS));
  });

  test('501 with x-should-retry: true once, then success → 200 after 2 attempts', async () => {
    const { res, attempts } = await viaScripted({ status: 501, failTimes: 1, headers: { 'x-should-retry': 'true' } });
    assert.equal(attempts, 2);
    assert.equal(res.status, 200);
    assert.equal(res.json().content[0].text, 'Hello from a raw upstream');
  });

  test('400 with x-should-retry: true → still 1 attempt (a client error stays one)', async () => {
    const { res, attempts } = await viaScripted({ status: 400, headers: { 'x-should-retry': 'true' } });
    assert.equal(attempts, 1);
    assert.equal(res.status, 400);
  });

  test('529 with x-should-retry: false on a stream → 1 attempt', async () => {
    const { res, attempts } = await viaScripted({ status: 529, headers: { 'x-should-retry': 'false' } }, { body: streamBody });
    assert.equal(attempts, 1);
    assert.equal(res.status, 529);
  });
});

describe('connect failures', () => {
  test('connection refused → retried, then 502 api_error with x-should-retry: false', async () => {
    const t0 = now();
    const res = await postMessages(gwRefused.port, { body: plainBody });
    assertAnthropicError(res, 502, 'api_error');
    assert.equal(res.headers['x-sluice-attempts'], String(MAX_ATTEMPTS));
    assert.equal(res.headers['x-should-retry'], 'false');
    assert.ok(now() - t0 < 5000, 'refusals fail fast');
    const line = await accessLine(gwRefused, res);
    assert.equal(line.attempts, MAX_ATTEMPTS);
    assert.equal(line.status, 502);
  });

  test('connection refused on a stream → the same 502 (no 200 head)', async () => {
    const res = await postMessages(gwRefused.port, { body: streamBody });
    assertAnthropicError(res, 502, 'api_error');
    assert.equal(res.headers['x-sluice-attempts'], String(MAX_ATTEMPTS));
  });
});

function eventTypes(res) { return res.events.map((e) => e.event); }

function assertCleanStream(res) {
  assert.equal(res.status, 200);
  assert.ok(res.complete, 'the body ended properly');
  const types = eventTypes(res);
  assert.equal(types[0], 'message_start');
  assert.equal(types.filter((t) => t === 'message_start').length, 1, `one message_start: ${types}`);
  assert.ok(!types.includes('error'), `no error event: ${types}`);
  assert.equal(types.at(-1), 'message_stop');
  const text = res.events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('');
  assert.equal(text, 'Hello from sluice mock! You said: one two three four five six');
}

// "After content" means after content reached the client. Unpaced, the mock's events can all
// arrive in one read, error included, before the gateway sent anything: then a retry is still
// allowed (nothing reached the client). Pacing (a delta every 100 ms) makes the gateway commit
// the stream at content_block_start, well before the fault.
const PACED = { 'x-mock-tokens-per-second': '10' };

describe('streams: before and after the first content event', () => {
  test('in-band overloaded_error before content (error-after-1), then success → retried invisibly', async () => {
    const key = tid('k-inband');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'error-after-1', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody });
    assert.equal(attempts, 2);
    assertCleanStream(res);
    assert.equal(res.headers['x-sluice-attempts'], '2');
  });

  test('in-band api_error before content, twice → retried invisibly on attempt 3', async () => {
    const key = tid('k-inband-api');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'error-after-1', 'x-mock-error-type': 'api_error', 'x-mock-fail-times': '2', 'x-mock-fault-key': key }, { body: streamBody });
    assert.equal(attempts, 3);
    assertCleanStream(res);
  });

  test('in-band overloaded_error before content every time → 3 attempts, then the held stream as sent', async () => {
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'error-after-1' }, { body: streamBody });
    assert.equal(attempts, MAX_ATTEMPTS);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-sluice-attempts'], String(MAX_ATTEMPTS));
    assert.deepEqual(eventTypes(res), ['message_start', 'error']);
    assert.equal(JSON.parse(res.events[1].data).error.type, 'overloaded_error');
  });

  test('in-band invalid_request_error before content → not retried (1 attempt)', async () => {
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'error-after-1', 'x-mock-error-type': 'invalid_request_error' }, { body: streamBody });
    assert.equal(attempts, 1);
    assert.deepEqual(eventTypes(res), ['message_start', 'error']);
    assert.equal(JSON.parse(res.events[1].data).error.type, 'invalid_request_error');
  });

  test('reset before content (reset-after-1), then success → retried invisibly', async () => {
    const key = tid('k-reset1');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'reset-after-1', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody });
    assert.equal(attempts, 2);
    assertCleanStream(res);
  });

  test('clean end before content (truncate-after-1), then success → retried invisibly', async () => {
    const key = tid('k-trunc1');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'truncate-after-1', 'x-mock-fail-times': '1', 'x-mock-fault-key': key }, { body: streamBody });
    assert.equal(attempts, 2);
    assertCleanStream(res);
  });

  test('in-band overloaded_error after content (error-after-4) → not retried, one event: error, no message_stop', async () => {
    const key = tid('k-inband-late');
    // fail-times 1: a retry would succeed and show up as a second attempt.
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'error-after-4', 'x-mock-fail-times': '1', 'x-mock-fault-key': key, ...PACED }, { body: streamBody });
    assert.equal(attempts, 1);
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    assert.deepEqual(eventTypes(res), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
    assert.equal(JSON.parse(res.events.at(-1).data).error.type, 'overloaded_error');
    assert.equal(res.headers['x-sluice-attempts'], '1');
  });

  test('reset after content (reset-after-5) → not retried, one event: error, no message_stop', async () => {
    const key = tid('k-reset5');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'reset-after-5', 'x-mock-fail-times': '1', 'x-mock-fault-key': key, ...PACED }, { body: streamBody });
    assert.equal(attempts, 1);
    assert.equal(res.status, 200);
    const types = eventTypes(res);
    assert.deepEqual(types, ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'error']);
    assert.equal(JSON.parse(res.events.at(-1).data).error.type, 'api_error');
    const line = await accessLine(gwMock, res);
    assert.equal(line.attempts, 1);
    assert.ok(line.error, 'the access log records the broken stream');
  });

  test('truncated after content (truncate-after-5) → not retried, one event: error', async () => {
    const key = tid('k-trunc5');
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'truncate-after-5', 'x-mock-fail-times': '1', 'x-mock-fault-key': key, ...PACED }, { body: streamBody });
    assert.equal(attempts, 1);
    assert.equal(eventTypes(res).at(-1), 'error');
    assert.equal(eventTypes(res).filter((t) => t === 'error').length, 1);
  });
});

describe('the retry budget', () => {
  let gwBudget;
  let gwRatio;
  let gwRefill;
  before(async () => {
    [gwBudget, gwRatio, gwRefill] = await Promise.all([
      // A floor of 2 retries per minute and a ratio too small to add any.
      startResilientGateway({ providers: [{ name: 'b', base_url: mock.url, breaker: NO_BREAKER, retry: { max_attempts: 3, base_ms: 10, cap_ms: 20, budget_ratio: 0.01, budget_min_retries: 2, budget_window_ms: 60000 } }] }),
      // No floor: retries ≤ half the requests.
      startResilientGateway({ providers: [{ name: 'r', base_url: mock.url, breaker: NO_BREAKER, retry: { max_attempts: 3, base_ms: 10, cap_ms: 20, budget_ratio: 0.5, budget_min_retries: 0, budget_window_ms: 60000 } }] }),
      // A 2 s window: the budget comes back.
      startResilientGateway({ providers: [{ name: 'w', base_url: mock.url, breaker: NO_BREAKER, retry: { max_attempts: 3, base_ms: 10, cap_ms: 20, budget_ratio: 0.01, budget_min_retries: 2, budget_window_ms: 2000 } }] }),
    ]);
  });
  after(async () => { await Promise.all([gwBudget, gwRatio, gwRefill].filter(Boolean).map((g) => g.stop())); });

  test('once the floor of 2 retries is spent, failing requests get 1 attempt each', async () => {
    const first = await viaMock({ 'x-mock-fault': 'status-503' }, { gw: gwBudget });
    assert.equal(first.attempts, 3, 'the first request spends the 2 retries');
    assert.equal(first.res.headers['x-should-retry'], 'false');
    for (let i = 0; i < 3; i++) {
      const { res, attempts } = await viaMock({ 'x-mock-fault': 'status-503' }, { gw: gwBudget });
      assert.equal(attempts, 1, `request ${i + 2}: no retry left in the budget`);
      assert.equal(res.status, 503);
      assert.equal(res.headers['x-sluice-attempts'], '1');
    }
  });

  test('a final error the budget cut short says x-should-retry: false (the client must not retry around the budget)', async () => {
    // The budget of gwBudget is spent by the test before.
    const { res, attempts } = await viaMock({ 'x-mock-fault': 'status-503' }, { gw: gwBudget });
    assert.equal(attempts, 1);
    assert.equal(res.headers['x-should-retry'], 'false');
  });

  test('with no floor, retries stay within the ratio of requests (0.5)', async () => {
    // 4 good requests: 4 requests in the window, no retries.
    for (let i = 0; i < 4; i++) assert.equal((await viaMock({}, { gw: gwRatio })).res.status, 200);
    // 5th request: 5 requests → 2.5 retries allowed → 2 retries (3 attempts).
    assert.equal((await viaMock({ 'x-mock-fault': 'status-529' }, { gw: gwRatio })).attempts, 3);
    // 6th: 6 requests → 3 allowed, 2 used → 1 retry.
    assert.equal((await viaMock({ 'x-mock-fault': 'status-529' }, { gw: gwRatio })).attempts, 2);
    // 7th: 7 requests → 3.5 allowed, 3 used → none.
    assert.equal((await viaMock({ 'x-mock-fault': 'status-529' }, { gw: gwRatio })).attempts, 1);
  });

  test('the budget comes back after its window', async () => {
    assert.equal((await viaMock({ 'x-mock-fault': 'status-500' }, { gw: gwRefill })).attempts, 3);
    assert.equal((await viaMock({ 'x-mock-fault': 'status-500' }, { gw: gwRefill })).attempts, 1);
    await new Promise((r) => setTimeout(r, 2300));
    assert.equal((await viaMock({ 'x-mock-fault': 'status-500' }, { gw: gwRefill })).attempts, 3);
  });
});

describe('what the official SDK reports', () => {
  let Anthropic;
  before(async () => { Anthropic = (await import(sdkPath)).default; });
  const client = (gw, opts = {}) => new Anthropic({ apiKey: 'sk-ant-sdk-test', baseURL: gw.url, timeout: 20000, ...opts });
  const params = { model: 'claude-test-model', max_tokens: 64, messages: [{ role: 'user', content: 'one two three' }] };

  test('a persistent 529 → OverloadedError, no SDK retry after sluice\'s (x-should-retry: false), no hang', { timeout: 20000 }, async () => {
    const id = tid('sdk');
    const t0 = now();
    await assert.rejects(
      client(gwMock).messages.create(params, { headers: { 'x-test-id': id, 'x-mock-fault': 'status-529' } }),
      (err) => {
        assert.ok(err instanceof Anthropic.OverloadedError, `got ${err.constructor.name}`);
        assert.ok(err instanceof Anthropic.InternalServerError);
        assert.equal(err.status, 529);
        assert.equal(err.error?.error?.type, 'overloaded_error');
        assert.equal(err.headers.get('x-should-retry'), 'false');
        assert.equal(err.headers.get('x-sluice-attempts'), String(MAX_ATTEMPTS));
        return true;
      },
    );
    assert.ok(now() - t0 < 5000, `the SDK gave up at once (${(now() - t0).toFixed(0)} ms)`);
    const recs = await mockRequestsWith(mock, 'x-test-id', id);
    assert.equal(recs.length, MAX_ATTEMPTS, 'upstream attempts = the gateway\'s max_attempts: the SDK did not retry');
    assert.deepEqual(recs.map((r) => r.headers['x-stainless-retry-count']), ['0', '0', '0']);
  });

  test('the same for a stream: OverloadedError when the stream is opened', { timeout: 20000 }, async () => {
    const id = tid('sdk-stream');
    await assert.rejects(
      (async () => {
        const s = client(gwMock).messages.stream(params, { headers: { 'x-test-id': id, 'x-mock-fault': 'status-529' } });
        await s.finalMessage();
      })(),
      (err) => err instanceof Anthropic.OverloadedError && err.status === 529,
    );
    assert.equal((await mockRequestsWith(mock, 'x-test-id', id)).length, MAX_ATTEMPTS);
  });

  test('the SDK succeeds when sluice\'s retries do (529 twice, then 200): one SDK request', { timeout: 20000 }, async () => {
    const id = tid('sdk-ok');
    const msg = await client(gwMock).messages.create(params, { headers: { 'x-test-id': id, 'x-mock-fault': 'status-529', 'x-mock-fail-times': '2', 'x-mock-fault-key': id } });
    assert.equal(msg.content[0].text, 'Hello from sluice mock! You said: one two three');
    const recs = await mockRequestsWith(mock, 'x-test-id', id);
    assert.equal(recs.length, 3);
    assert.deepEqual(recs.map((r) => r.headers['x-stainless-retry-count']), ['0', '0', '0']);
  });

  test('with exhausted_should_retry_false: false the SDK retries too: attempts multiply (3 × 3)', { timeout: 30000 }, async () => {
    const id = tid('sdk-mult');
    await assert.rejects(
      client(gwKeepGoing, { maxRetries: 2 }).messages.create(params, { headers: { 'x-test-id': id, 'x-mock-fault': 'status-529' } }),
      (err) => err instanceof Anthropic.OverloadedError && err.headers.get('x-should-retry') === null,
    );
    const recs = await mockRequestsWith(mock, 'x-test-id', id);
    assert.equal(recs.length, 9);
    assert.deepEqual(recs.map((r) => r.headers['x-stainless-retry-count']), ['0', '0', '0', '1', '1', '1', '2', '2', '2']);
  });
});
