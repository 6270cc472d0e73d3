// Limits per key and per project: RPM, TPM (reserved at admission, settled with the real usage)
// and concurrency hold exactly under concurrent load from many connections; a refusal is a 429
// rate_limit_error that says which limit and when it resets; a spent budget is a 402.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from '../support/harness.mjs';
import { postMessages, assertAnthropicError, now, Conn, API_HEADERS, waitFor } from './helpers.mjs';
import { startUsageGateway, createKey, bodyFor } from './usage_helpers.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

// `n` requests at once, each on its own connection; resolves to the responses in order.
function burst(n, makeHeaders, body = bodyFor('hi')) {
  return Promise.all(Array.from({ length: n }, (_, i) => postMessages(gw.port, { headers: makeHeaders(i), body })));
}

const statuses = (rs) => rs.map((r) => r.status).sort();
const count = (rs, s) => rs.filter((r) => r.status === s).length;

describe('rate limits', () => {
  test('RPM admits exactly the bucket under a burst of 40 connections', async () => {
    const k = await createKey(gw, 'rpm-project', { rpm: 10 });
    const t0 = now();
    const rs = await burst(40, () => ({ 'x-api-key': k.key }));
    const elapsed = now() - t0;
    // The bucket refills one request per 6 s; a burst that took longer could see one more.
    const expected = elapsed < 5500 ? 10 : 11;
    assert.equal(count(rs, 200), expected, `statuses ${statuses(rs)} in ${elapsed} ms`);
    assert.equal(count(rs, 429), 40 - expected);
    const refused = rs.find((r) => r.status === 429);
    const body = assertAnthropicError(refused, 429, 'rate_limit_error');
    assert.match(body.error.message, /key '.*' is limited to 10 requests per minute/);
    const h = refused.headers;
    assert.equal(h['x-sluice-ratelimit-limit'], 'rpm');
    assert.equal(h['x-sluice-ratelimit-scope'], 'key');
    assert.ok(Number(h['retry-after']) >= 1 && Number(h['retry-after']) <= 6, h['retry-after']);
    assert.ok(Number(h['retry-after-ms']) > 0 && Number(h['retry-after-ms']) <= 6000);
    assert.equal(h['anthropic-ratelimit-requests-limit'], '10');
    assert.match(h['anthropic-ratelimit-requests-reset'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(h['x-sluice-ratelimit-reset'], /^\d{4}-\d\d-\d\dT/);
    assert.equal(h['x-should-retry'], undefined, 'a rate limit is worth retrying');
  });

  test('a project limit is shared by all of its keys', async () => {
    const a = await createKey(gw, 'shared', {});
    const b = await createKey(gw, 'shared', {});
    const set = await gw.admin('PUT', '/admin/projects/shared', { rpm: 6 });
    assert.equal(set.status, 200, set.text);
    const rs = await burst(20, (i) => ({ 'x-api-key': i % 2 ? a.key : b.key }));
    assert.equal(count(rs, 200), 6, `statuses ${statuses(rs)}`);
    const refused = rs.find((r) => r.status === 429);
    assert.equal(refused.headers['x-sluice-ratelimit-scope'], 'project');
    assert.match(refused.json().error.message, /project 'shared'/);
  });

  test('concurrency admits exactly N requests in flight and frees slots when they end', async () => {
    const k = await createKey(gw, 'conc', { concurrency: 3 });
    const slow = bodyFor('hi', { stream: true });
    // Paced streams of ~10 output tokens at 20/s stay in flight for ~0.5 s.
    const rs = await Promise.all(Array.from({ length: 10 }, () =>
      postMessages(gw.port, { headers: { 'x-api-key': k.key, 'x-mock-tokens-per-second': '20' }, body: slow })));
    assert.equal(count(rs, 200), 3, `statuses ${statuses(rs)}`);
    for (const r of rs.filter((x) => x.status === 200)) assert.equal(r.events.at(-1).event, 'message_stop');
    const refused = rs.find((r) => r.status === 429);
    assert.equal(refused.headers['x-sluice-ratelimit-limit'], 'concurrency');
    // Every slot came back when the streams ended: a stream settles before its last event is
    // written, so the next request may follow at once.
    const again = await burst(3, () => ({ 'x-api-key': k.key }));
    assert.deepEqual(statuses(again), [200, 200, 200]);
  });

  test('TPM is reserved at admission (input estimate + max_tokens) and settled with the real usage', async () => {
    const k = await createKey(gw, 'tpm', { tpm: 2000 });
    const big = bodyFor('hi', { stream: true, max_tokens: 900 });
    // Each reserves ~930 tokens: two fit in 2000, the third does not, although each uses ~20.
    const rs = await Promise.all(Array.from({ length: 5 }, () =>
      postMessages(gw.port, { headers: { 'x-api-key': k.key, 'x-mock-tokens-per-second': '20' }, body: big })));
    assert.equal(count(rs, 200), 2, `statuses ${statuses(rs)}`);
    const refused = rs.find((r) => r.status === 429);
    assert.equal(refused.headers['x-sluice-ratelimit-limit'], 'tpm');
    assert.equal(refused.headers['anthropic-ratelimit-tokens-limit'], '2000');
    // Settled with ~20 real tokens each: the reservations came back, so two more fit at once.
    const after = await burst(2, () => ({ 'x-api-key': k.key }), bodyFor('hi', { max_tokens: 900 }));
    assert.deepEqual(statuses(after), [200, 200]);
  });

  test('a request larger than the TPM limit itself is a 400, not a retryable 429', async () => {
    const k = await createKey(gw, 'tiny', { tpm: 1000 });
    const res = await postMessages(gw.port, { headers: { 'x-api-key': k.key }, body: bodyFor('hi', { max_tokens: 5000 }) });
    const body = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.match(body.error.message, /lower max_tokens/);
    assert.equal(res.headers['x-should-retry'], 'false');
  });

  test('a refused request leaves nothing reserved: the key can use its whole limit afterwards', async () => {
    const k = await createKey(gw, 'clean', { rpm: 3, concurrency: 1 });
    const slow = bodyFor('hi', { stream: true });
    const first = await Promise.all(Array.from({ length: 4 }, () =>
      postMessages(gw.port, { headers: { 'x-api-key': k.key, 'x-mock-tokens-per-second': '20' }, body: slow })));
    assert.equal(count(first, 200), 1);
    assert.equal(first.filter((r) => r.status === 429).every((r) => r.headers['x-sluice-ratelimit-limit'] === 'concurrency'), true);
    // Concurrency refusals did not consume RPM: two requests of the three remain.
    const rest = [await postMessages(gw.port, { headers: { 'x-api-key': k.key } }), await postMessages(gw.port, { headers: { 'x-api-key': k.key } })];
    assert.deepEqual(statuses(rest), [200, 200]);
    assert.equal((await postMessages(gw.port, { headers: { 'x-api-key': k.key } })).headers['x-sluice-ratelimit-limit'], 'rpm');
  });
});

describe('every way a request ends settles its reservation', () => {
  // A key with two concurrency slots and a TPM bucket that holds two ~930-token reservations:
  // after each kind of ending, two such requests side by side must both be admitted, which
  // holds only if the ended request gave its slot back and was charged its real (small) usage
  // rather than its reservation.
  const ENDINGS = {
    'a complete stream': { headers: {}, stream: true },
    'a non-streaming answer': { headers: {}, stream: false },
    'a stream the upstream resets mid-way': { headers: { 'x-mock-fault': 'reset-after-4' }, stream: true },
    'an in-band error after content': { headers: { 'x-mock-fault': 'error-after-4' }, stream: true },
    'a malformed upstream event': { headers: { 'x-mock-fault': 'malformed-sse' }, stream: true },
    'an upstream 500': { headers: { 'x-mock-fault': 'status-500' }, stream: false },
    'an upstream 429': { headers: { 'x-mock-fault': 'status-429' }, stream: true },
    'an upstream 404': { headers: { 'x-mock-fault': 'status-404' }, stream: false },
  };
  for (const [name, ending] of Object.entries(ENDINGS)) {
    test(name, async () => {
      const k = await createKey(gw, `end-${name.replace(/[^a-z0-9]+/g, '-')}`.slice(0, 60), { concurrency: 2, tpm: 2000 });
      const first = await postMessages(gw.port, {
        headers: { 'x-api-key': k.key, ...ending.headers }, body: bodyFor('hi', { stream: ending.stream, max_tokens: 900 }),
      });
      assert.equal(first.headers['x-sluice-ratelimit-limit'], undefined, `admitted: ${first.text}`);
      // No pause: whatever the ending, the request settles before its last bytes are written.
      const paced = { 'x-api-key': k.key, 'x-mock-tokens-per-second': '50' };
      const both = await Promise.all([0, 1].map(() =>
        postMessages(gw.port, { headers: paced, body: bodyFor('hi', { stream: true, max_tokens: 900 }) })));
      for (const r of both) {
        assert.equal(r.status, 200, `refused by ${r.headers['x-sluice-ratelimit-limit']}: ${r.text}`);
      }
    });
  }

  test('a client that leaves mid-stream', async () => {
    const k = await createKey(gw, 'end-leaver', { concurrency: 1 });
    const conn = await Conn.open(gw.port);
    await conn.send({ method: 'POST', path: '/v1/messages', headers: { ...API_HEADERS, 'x-api-key': k.key, 'x-mock-tokens-per-second': '5' }, body: bodyFor('one two three four five six', { stream: true }) });
    let events = 0;
    const reading = conn.readResponse({ timeoutMs: 3000, onEvent: () => { events++; } });
    assert.ok(await waitFor(() => events >= 3, 5000, 10));
    const busy = await postMessages(gw.port, { headers: { 'x-api-key': k.key } });
    assert.equal(busy.headers['x-sluice-ratelimit-limit'], 'concurrency');
    conn.close();
    await reading.catch(() => {});
    assert.ok(await waitFor(async () => (await postMessages(gw.port, { headers: { 'x-api-key': k.key } })).status === 200, 3000));
  });
});

describe('budgets', () => {
  test('a spent daily budget answers 402 billing_error, not retryable, until the next day', async () => {
    // One mock answer costs ~0.00015 USD on Sonnet prices: the second request is over 0.0001.
    const k = await createKey(gw, 'budget', { 'budget-usd-day': 0.0001 });
    const first = await postMessages(gw.port, { headers: { 'x-api-key': k.key }, body: bodyFor('hello there') });
    assert.equal(first.status, 200, first.text);
    const second = await postMessages(gw.port, { headers: { 'x-api-key': k.key }, body: bodyFor('hello there') });
    const body = assertAnthropicError(second, 402, 'billing_error');
    assert.match(body.error.message, /key '.*' has spent \$0\.\d+ of its daily budget of \$0\.0001/);
    assert.equal(second.headers['x-should-retry'], 'false');
    assert.match(second.headers['x-sluice-budget-reset'], /T00:00:00Z$/);
  });

  test('a project budget covers every key of the project', async () => {
    const a = await createKey(gw, 'pbudget', {});
    const b = await createKey(gw, 'pbudget', {});
    assert.equal((await gw.admin('PUT', '/admin/projects/pbudget', { budget_usd_month: 0.0001 })).status, 200);
    assert.equal((await postMessages(gw.port, { headers: { 'x-api-key': a.key }, body: bodyFor('hello') })).status, 200);
    const res = await postMessages(gw.port, { headers: { 'x-api-key': b.key }, body: bodyFor('hello') });
    const body = assertAnthropicError(res, 402, 'billing_error');
    assert.match(body.error.message, /project 'pbudget'.*monthly budget/);
  });
});
