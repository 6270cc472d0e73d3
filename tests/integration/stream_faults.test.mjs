// Upstream failures through the gateway: broken streams (reset, truncation, in-band errors,
// stalls, malformed SSE), error statuses passed through unchanged, and the gateway's own 502/504
// when the upstream is unreachable or too slow.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway } from '../support/harness.mjs';
import {
  messagesBody, postMessages, gatewayConfig, closedPort, assertAnthropicError, mockRequests,
  startRawUpstream, now,
  startRelay, stripEventIds,
} from './helpers.mjs';

let mock;
let gw; // defaults
let gwTimeouts; // idle_ms 500, first_byte_ms 300
let gwTotal; // total_ms 500
let gwRefused; // upstream port closed
let garbage; // raw upstream that answers nonsense or nothing
let gwGarbage;

before(async () => {
  mock = await startMock();
  garbage = await startRawUpstream((sock, req) => {
    if (req.headers['x-scenario'] === 'not-http') sock.end('this is not HTTP at all\r\n\r\n');
    else sock.destroy(); // closes without answering
  });
  const refusedPort = await closedPort();
  [gw, gwTimeouts, gwTotal, gwRefused, gwGarbage] = await Promise.all([
    startRelay(mock.url),
    startRelay(mock.url, { timeouts: { idle_ms: 500, first_byte_ms: 300 } }),
    startRelay(mock.url, { timeouts: { total_ms: 500 } }),
    startRelay(`http://127.0.0.1:${refusedPort}`, { timeouts: { connect_ms: 2000 } }),
    startRelay(garbage.url),
  ]);
});

after(async () => {
  await Promise.all([gw, gwTimeouts, gwTotal, gwRefused, gwGarbage].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (garbage) await garbage.close();
});

const streamBody = messagesBody('one two three four five six seven eight', { stream: true });
const plainBody = messagesBody('one two three');

function assertBrokenStream(res, relayedEvents) {
  assert.equal(res.status, 200);
  assert.match(res.headers['x-sluice-request-id'] || '', /^req_/);
  assert.ok(res.complete, 'the gateway ends the chunked body properly after the error event');
  const types = res.events.map((e) => e.event);
  assert.deepEqual(types.slice(0, relayedEvents), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta'].slice(0, relayedEvents));
  assert.equal(types.length, relayedEvents + 1, `events: ${types}`);
  assert.equal(types.at(-1), 'error');
  assert.ok(!types.includes('message_stop'));
  const err = JSON.parse(res.events.at(-1).data);
  assert.equal(err.type, 'error');
  return err;
}

describe('broken streams', () => {
  test('reset-after-5: events so far, then one event: error (api_error), no message_stop', async () => {
    const res = await postMessages(gw.port, { body: streamBody, headers: { 'x-mock-fault': 'reset-after-5' } });
    const err = assertBrokenStream(res, 5);
    assert.equal(err.error.type, 'api_error');
  });

  test('truncate-after-5: events so far, then one event: error (api_error), no message_stop', async () => {
    const res = await postMessages(gw.port, { body: streamBody, headers: { 'x-mock-fault': 'truncate-after-5' } });
    const err = assertBrokenStream(res, 5);
    assert.equal(err.error.type, 'api_error');
  });

  test('reset-after-0: the head came, then nothing: one error event, or a 502 if nothing was sent yet', async () => {
    const res = await postMessages(gw.port, { body: streamBody, headers: { 'x-mock-fault': 'reset-after-0' } });
    if (res.status === 502) {
      // A gateway that holds the head back until the first event can still answer properly.
      assertAnthropicError(res, 502, 'api_error');
    } else {
      const err = assertBrokenStream(res, 0);
      assert.equal(err.error.type, 'api_error');
    }
  });

  test("error-after-5: the upstream's error event is relayed exactly once, unchanged", async () => {
    const headers = { 'x-mock-fault': 'error-after-5' };
    const [res, straight] = await Promise.all([
      postMessages(gw.port, { body: streamBody, headers }),
      postMessages(mock.port, { body: streamBody, headers }),
    ]);
    assertBrokenStream(res, 5);
    assert.equal(res.events.at(-1).raw.replace(/^id: st_\S+\n/m, ''), straight.events.at(-1).raw);
    const err = JSON.parse(res.events.at(-1).data);
    assert.deepEqual(err.error, { type: 'overloaded_error', message: 'Overloaded' });
    assert.equal(res.events.filter((e) => e.event === 'error').length, 1);
  });

  test('error-after-4 with a custom error type and message: relayed as the upstream wrote it', async () => {
    const headers = { 'x-mock-fault': 'error-after-4', 'x-mock-error-type': 'api_error', 'x-mock-error-message': 'Internal server error, really' };
    const res = await postMessages(gw.port, { body: streamBody, headers });
    assertBrokenStream(res, 4);
    assert.deepEqual(JSON.parse(res.events.at(-1).data).error, { type: 'api_error', message: 'Internal server error, really' });
  });

  test('stall-after-5 with idle_ms 500: event: error within a few seconds', async () => {
    const t0 = now();
    const res = await postMessages(gwTimeouts.port, { body: streamBody, headers: { 'x-mock-fault': 'stall-after-5' } }, { timeoutMs: 15000 });
    const elapsed = now() - t0;
    const err = assertBrokenStream(res, 5);
    assert.ok(['timeout_error', 'api_error'].includes(err.error.type), err.error.type);
    const gap = res.events.at(-1).t - res.events[4].t;
    assert.ok(gap >= 400, `error came ${gap.toFixed(0)} ms after the last event (idle_ms 500)`);
    assert.ok(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
  });

  test('malformed-sse: the broken bytes are relayed unchanged (the gateway does not repair streams)', async () => {
    const headers = { 'x-mock-fault': 'malformed-sse' };
    const [res, straight] = await Promise.all([
      postMessages(gw.port, { body: streamBody, headers }),
      postMessages(mock.port, { body: streamBody, headers }),
    ]);
    assert.equal(res.status, 200);
    const id = (r) => JSON.parse(r.events[0].data).message.id;
    assert.equal(stripEventIds(res.text).replaceAll(id(res), 'ID'), straight.text.replaceAll(id(straight), 'ID'));
    assert.equal(res.events.at(-1).event, 'message_stop');
    assert.ok(!res.events.some((e) => e.event === 'error'));
  });
});

describe('error statuses pass through unchanged', () => {
  // The mock's error body differs between two requests only by its request id.
  const sameBody = (a, b) => assert.equal(
    a.text.replaceAll(a.json().request_id, 'RID'), b.text.replaceAll(b.json().request_id, 'RID'));

  for (const [status, type, stream] of [
    [429, 'rate_limit_error', false],
    [429, 'rate_limit_error', true],
    [529, 'overloaded_error', false],
    [529, 'overloaded_error', true],
    [500, 'api_error', false],
    [503, 'overloaded_error', true],
  ]) {
    test(`status-${status} (${stream ? 'streaming' : 'non-streaming'} request): status, body and headers relayed`, async () => {
      const headers = { 'x-mock-fault': `status-${status}`, 'x-mock-retry-after': '7' };
      const body = stream ? streamBody : plainBody;
      const [res, straight] = await Promise.all([
        postMessages(gw.port, { body, headers }),
        postMessages(mock.port, { body, headers }),
      ]);
      assert.equal(res.status, status, res.text);
      assert.equal(straight.status, status);
      const b = res.json();
      assert.equal(b.type, 'error');
      assert.equal(b.error.type, straight.json().error.type);
      if (status !== 503) assert.equal(b.error.type, type);
      sameBody(res, straight);
      // The upstream's request id is kept in the header and the body; sluice adds its own.
      assert.match(res.headers['request-id'], /^req_/);
      assert.equal(b.request_id, res.headers['request-id']);
      assert.match(res.headers['x-sluice-request-id'], /^req_/);
      assert.notEqual(res.headers['x-sluice-request-id'], res.headers['request-id']);
      assert.equal(res.headers['retry-after'], '7');
      assert.equal(res.headers['retry-after-ms'], '7000');
      assert.match(res.headers['content-type'], /^application\/json/);
      for (const k of Object.keys(straight.headers).filter((h) => h.startsWith('anthropic-ratelimit-') && h.endsWith('-limit'))) {
        assert.equal(res.headers[k], straight.headers[k], k);
      }
    });
  }

  for (const status of [429, 500, 529]) {
    test(`status-${status}: the status line keeps the upstream's reason phrase`, async () => {
      const headers = { 'x-mock-fault': `status-${status}` };
      const [res, straight] = await Promise.all([
        postMessages(gw.port, { body: plainBody, headers }),
        postMessages(mock.port, { body: plainBody, headers }),
      ]);
      assert.equal(res.status, status);
      assert.equal(res.reason, straight.reason);
    });
  }

  test('429 without x-mock-retry-after: the default retry-after: 1 passes through', async () => {
    const res = await postMessages(gw.port, { body: plainBody, headers: { 'x-mock-fault': 'status-429' } });
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '1');
  });

  test('the gateway itself does not retry an upstream 500 (one request reaches the mock)', async () => {
    const key = `no-retry-${Date.now()}`;
    const res = await postMessages(gw.port, {
      body: plainBody,
      headers: { 'x-mock-fault': 'status-500', 'x-mock-fail-times': '1', 'x-mock-fault-key': key },
    });
    assert.equal(res.status, 500);
    const seen = (await mockRequests(mock)).filter((r) => r.headers['x-mock-fault-key'] === key);
    assert.equal(seen.length, 1);
  });
});

describe("the gateway's own upstream errors", () => {
  test('slow-first-byte with first_byte_ms 300 (streaming): 504 timeout_error', async () => {
    const t0 = now();
    const res = await postMessages(gwTimeouts.port, {
      body: streamBody,
      headers: { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '4000' },
    });
    const elapsed = now() - t0;
    assertAnthropicError(res, 504, 'timeout_error');
    assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms`);
  });

  test('slow-first-byte with total_ms 500 (non-streaming): 504 timeout_error', async () => {
    const t0 = now();
    const res = await postMessages(gwTotal.port, {
      body: plainBody,
      headers: { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '4000' },
    });
    const elapsed = now() - t0;
    assertAnthropicError(res, 504, 'timeout_error');
    assert.ok(elapsed >= 400 && elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms`);
  });

  test('a slow first byte within first_byte_ms is fine', async () => {
    const res = await postMessages(gwTimeouts.port, {
      body: streamBody,
      headers: { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '50' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.events.at(-1).event, 'message_stop');
  });

  test('first_byte_ms does not apply to non-streaming requests (a 1 s answer with first_byte_ms 300 is fine)', async () => {
    const res = await postMessages(gwTimeouts.port, {
      body: plainBody,
      headers: { 'x-mock-fault': 'slow-first-byte', 'x-mock-delay-ms': '1000' },
    });
    assert.equal(res.status, 200, res.text);
  });

  test('a slow but steady stream (gaps of 250 ms, idle_ms 500) completes', async () => {
    const res = await postMessages(gwTimeouts.port, { body: messagesBody('a b', { stream: true }), headers: { 'x-mock-tokens-per-second': '4' } }, { timeoutMs: 15000 });
    assert.equal(res.status, 200);
    assert.equal(res.events.at(-1).event, 'message_stop');
    assert.ok(res.tEnd - res.t >= 1500, 'the stream really was paced');
  });

  test('total_ms also bounds a stream: a paced stream longer than total_ms 500 ends in an error event', async () => {
    const t0 = now();
    const res = await postMessages(gwTotal.port, { body: streamBody, headers: { 'x-mock-tokens-per-second': '10' } }, { timeoutMs: 15000 });
    assert.equal(res.status, 200);
    assert.equal(res.events.at(-1).event, 'error');
    assert.ok(!res.events.some((e) => e.event === 'message_stop'));
    assert.ok(now() - t0 < 3000, `ended after ${(now() - t0).toFixed(0)} ms`);
  });

  for (const stream of [false, true]) {
    test(`upstream not listening (connect refused, ${stream ? 'streaming' : 'non-streaming'}): 502 api_error`, async () => {
      const t0 = now();
      const res = await postMessages(gwRefused.port, { body: stream ? streamBody : plainBody });
      assertAnthropicError(res, 502, 'api_error');
      assert.ok(now() - t0 < 3000);
    });
  }

  test('upstream answers something that is not HTTP: 502 api_error', async () => {
    const res = await postMessages(gwGarbage.port, { body: plainBody, headers: { 'x-scenario': 'not-http' } });
    assertAnthropicError(res, 502, 'api_error');
  });

  test('upstream closes without answering: 502 api_error', async () => {
    const res = await postMessages(gwGarbage.port, { body: streamBody, headers: { 'x-scenario': 'close' } });
    assertAnthropicError(res, 502, 'api_error');
  });
});
