// Resilience, part 4: a client that goes away cancels the upstream request at once (issue:
// resilience, items 5 and 7): mid-stream, while the preamble is held, while the gateway waits for
// the upstream's first byte, and during a retry wait. The upstream is written here and notes
// when its socket closes; the bound is 300 ms after the client's socket was destroyed (both
// ends are in this process, so the two times are on one clock). The waits it tells apart are
// seconds long (connect 3 s, retry-after 2 s, streams that never end); 100 ms was missed by a
// loaded 2-core machine (113 ms).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../support/harness.mjs';
import {
  API_HEADERS, Conn, messagesBody, startRawUpstream, startResilientGateway, waitFor, now,
  SSE_RESPONSE_HEAD, chunk, anthropicStreamEvents, httpResponse, startBlackHole, tcpSocketsTo,
} from './helpers.mjs';

const LIMIT_MS = 300;
const EVENTS = anthropicStreamEvents('one two three four five six');

// Per request: when it arrived and when its connection closed.
const seen = []; // { scenario, id, t, closedAt, sock }
let upstream;
let gw;

const scenarios = {
  // message_start, content_block_start, a delta: committed; then a ping every 200 ms, forever.
  async midStream(sock, entry) {
    sock.write(SSE_RESPONSE_HEAD);
    sock.write(chunk(EVENTS[0] + EVENTS[1] + EVENTS[3]));
    while (!sock.destroyed && now() - entry.t < 20000) {
      await sleep(200);
      if (!sock.destroyed) sock.write(chunk(EVENTS[2]));
    }
  },
  // Only the preamble (message_start, ping): the gateway holds it, the client has nothing yet.
  async preamble(sock) {
    sock.write(SSE_RESPONSE_HEAD);
    sock.write(chunk(EVENTS[0] + EVENTS[2]));
  },
  // Nothing at all: the gateway waits for the first byte of the head.
  async silent() {},
  // A retryable 503 with a long wait before the next attempt.
  async retryLater(sock) {
    sock.write(httpResponse(503, { reason: 'Service Unavailable', headers: { 'retry-after-ms': '2000' } }));
  },
  // A plain 503.
  async fail503(sock) {
    sock.write(httpResponse(503, { reason: 'Service Unavailable' }));
  },
};

before(async () => {
  // Resumable streams off: a client that leaves mid-stream cancels at once (with resume on, the
  // upstream goes on into the replay buffer for the grace period: tests/integration/resume.test.mjs).
  upstream = await startRawUpstream((sock, req) => {
    const entry = { scenario: req.headers['x-scenario'], id: req.headers['x-test-id'], t: now(), closedAt: undefined };
    seen.push(entry);
    sock.once('close', () => { entry.closedAt = now(); });
    scenarios[entry.scenario](sock, entry);
  });
  gw = await startResilientGateway({ providers: [{
    name: 'up', base_url: upstream.url,
    retry: { max_attempts: 3, base_ms: 20, cap_ms: 40, budget_min_retries: 100000, max_retry_after_ms: 10000 },
    breaker: { consecutive_failures: 1000000, min_requests: 1000000 },
    timeouts: { first_byte_ms: 15000, idle_ms: 15000, total_ms: 30000 },
  }], streams: { resume: false } });
});

after(async () => {
  if (gw) await gw.stop();
  if (upstream) await upstream.close();
});

let seq = 0;
const tid = () => `d-${process.pid}-${++seq}`;
const streamBody = messagesBody('one two three', { stream: true });

function open(scenario, body = streamBody) { return openOn(gw, scenario, body); }

async function openOn(g, scenario, body = streamBody) {
  const id = tid();
  const conn = await Conn.open(g.port);
  await conn.send({ headers: { ...API_HEADERS, 'x-scenario': scenario, 'x-test-id': id }, body });
  return { conn, id, entries: () => seen.filter((e) => e.id === id) };
}

// Destroys the client socket and returns how long the upstream socket took to close.
async function leaveAndMeasure(conn, entry) {
  const tGone = now();
  conn.sock.destroy();
  await waitFor(() => entry.closedAt, 3000, 2);
  assert.ok(entry.closedAt, 'the upstream connection was closed');
  return entry.closedAt - tGone;
}

async function logLine(requestId) {
  return waitFor(() => gw.accessLog().find((l) => l.request_id === requestId), 3000, 20);
}

describe('client disconnect', () => {
  test(`mid-stream: the upstream connection closes within ${LIMIT_MS} ms`, async (t) => {
    const { conn, entries } = await open('midStream');
    assert.ok(await conn.needText('text_delta', now() + 5000) >= 0, 'the stream reached the client');
    await sleep(250); // a ping or two went through
    const requestId = /x-sluice-request-id: (\S+)/i.exec(conn.buf.toString('latin1'))[1];
    const [entry] = entries();
    const ms = await leaveAndMeasure(conn, entry);
    t.diagnostic(`upstream closed ${ms.toFixed(1)} ms after the client`);
    assert.ok(ms < LIMIT_MS, `upstream closed ${ms.toFixed(1)} ms after the client left`);
    const line = await logLine(requestId);
    assert.ok(line, 'logged');
    assert.equal(line.error, 'client_gone');
    assert.equal(entries().length, 1, 'no retry for a client that left');
  });

  test(`while the preamble is held (nothing sent to the client yet): closes within ${LIMIT_MS} ms, no retry`, async (t) => {
    const { conn, entries } = await open('preamble');
    const entry = await waitFor(() => entries()[0], 3000, 2);
    await sleep(150); // the preamble reached the gateway and is held
    assert.equal(conn.buf.length, 0, `the client got nothing yet: ${conn.buf.toString()}`);
    const ms = await leaveAndMeasure(conn, entry);
    t.diagnostic(`upstream closed ${ms.toFixed(1)} ms after the client`);
    assert.ok(ms < LIMIT_MS, `upstream closed ${ms.toFixed(1)} ms after the client left`);
    await sleep(300);
    assert.equal(entries().length, 1, 'no new attempt for a client that left');
  });

  test(`while waiting for the upstream's first byte: closes within ${LIMIT_MS} ms, no retry`, async (t) => {
    const { conn, entries } = await open('silent');
    const entry = await waitFor(() => entries()[0], 3000, 2);
    await sleep(100);
    const ms = await leaveAndMeasure(conn, entry);
    t.diagnostic(`upstream closed ${ms.toFixed(1)} ms after the client`);
    assert.ok(ms < LIMIT_MS, `upstream closed ${ms.toFixed(1)} ms after the client left`);
    await sleep(300);
    assert.equal(entries().length, 1);
  });

  test(`the same for a non-streaming request waiting for its answer: closes within ${LIMIT_MS} ms`, async (t) => {
    const { conn, entries } = await open('silent', messagesBody('one two three'));
    const entry = await waitFor(() => entries()[0], 3000, 2);
    await sleep(100);
    const ms = await leaveAndMeasure(conn, entry);
    t.diagnostic(`upstream closed ${ms.toFixed(1)} ms after the client`);
    assert.ok(ms < LIMIT_MS, `upstream closed ${ms.toFixed(1)} ms after the client left`);
  });

  test('during a retry wait (503, retry-after-ms 2000): no further attempt, the request ends at once', async () => {
    await sleep(250); // earlier tests' log lines are flushed (the log is written every 100 ms)
    const before = gw.accessLog().length;
    const { conn, entries } = await open('retryLater', messagesBody('one two three'));
    await waitFor(() => entries()[0], 3000, 2);
    await sleep(100); // the 503 arrived; the gateway is waiting 2 s
    const tGone = now();
    conn.sock.destroy();
    // The access log line is written when the request ends: at once, not after the 2 s wait.
    const line = await waitFor(() => gw.accessLog().slice(before).find((l) => l.error === 'client_gone'), 4000, 10);
    const ended = now() - tGone;
    assert.ok(line, 'the request was logged as client_gone');
    assert.ok(ended < 500, `the request ended ${ended.toFixed(0)} ms after the client left (the wait was 2 s)`);
    await sleep(2300 - ended);
    assert.equal(entries().length, 1, 'no attempt after the client left');
  });
});

test(`while the gateway is still connecting (connect_ms 3000): the connecting socket closes within ${LIMIT_MS} ms`, async (t) => {
  const hole = await startBlackHole();
  if (!hole) { t.skip('python3 not available to make a listener that never accepts'); return; }
  let g;
  try {
    g = await startResilientGateway({ providers: [{ name: 'up', base_url: `http://127.0.0.1:${hole.port}`, retry: { max_attempts: 3, base_ms: 20, cap_ms: 40 }, timeouts: { connect_ms: 3000 } }] });
    const conn = await Conn.open(g.port);
    await conn.send({ headers: API_HEADERS, body: streamBody });
    const connecting = await waitFor(() => tcpSocketsTo(g.proc.pid, hole.port).byState.SYN_SENT, 2000, 5);
    assert.equal(connecting, 1, 'the gateway is connecting (its SYN is unanswered)');
    await sleep(100);
    const tGone = now();
    conn.sock.destroy();
    const closed = await waitFor(() => tcpSocketsTo(g.proc.pid, hole.port).total === 0, 2000, 2);
    const ms = now() - tGone;
    t.diagnostic(`connecting socket closed ${ms.toFixed(1)} ms after the client`);
    assert.ok(closed, 'the connecting socket was closed');
    assert.ok(ms < LIMIT_MS, `the connecting socket closed ${ms.toFixed(1)} ms after the client left`);
    const line = await waitFor(() => g.accessLog().find((l) => l.error === 'client_gone'), 3000, 10);
    assert.ok(line, 'logged as client_gone');
    assert.equal(line.attempts, 1);
    await sleep(200);
    assert.equal(tcpSocketsTo(g.proc.pid, hole.port).total, 0, 'no new attempt');
  } finally {
    if (g) await g.stop();
    hole.stop();
  }
});

test('a half-open probe whose client leaves before the upstream answered does not close the breaker', async () => {
  const g = await startResilientGateway({ providers: [{
    name: 'up', base_url: upstream.url,
    retry: { max_attempts: 1 },
    breaker: { consecutive_failures: 2, min_requests: 1000000, open_for_ms: 500 },
    timeouts: { first_byte_ms: 15000, total_ms: 30000 },
  }] });
  try {
    for (let i = 0; i < 2; i++) {
      const c = await Conn.open(g.port);
      await c.send({ headers: { ...API_HEADERS, 'x-scenario': 'fail503' }, body: messagesBody('x') });
      assert.equal((await c.readResponse({ timeoutMs: 5000 })).status, 503);
      c.close();
    }
    const h1 = await (await fetch(`${g.url}/healthz`)).json();
    assert.equal(h1.providers[0].deployments[0].breaker, 'open');
    await sleep(600);
    // The probe: the upstream says nothing; the client gives up.
    const { conn, entries } = await openOn(g, 'silent');
    await waitFor(() => entries()[0], 3000, 2);
    conn.sock.destroy();
    await sleep(100);
    const h2 = await (await fetch(`${g.url}/healthz`)).json();
    assert.notEqual(h2.providers[0].deployments[0].breaker, 'closed', 'nothing proved the upstream healthy');
    assert.ok(!g.stderr().includes('"to":"closed"'), 'no transition to closed was logged');
  } finally {
    await g.stop();
  }
});
