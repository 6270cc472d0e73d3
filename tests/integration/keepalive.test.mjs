// Keep-alive on both sides: several requests (streaming and not) on one client connection,
// `connection: close` and HTTP/1.0 honoured, pipelining, and upstream connection pooling.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, sleep } from '../support/harness.mjs';
import {
  API_HEADERS, Conn, buildRequest, messagesBody, startRawUpstream, gatewayConfig, waitFor, now,
  startRelay,
} from './helpers.mjs';

let mock;
let gw;
let up; // raw upstream counting connections
let gwUp;
let gwIdle; // idle_timeout_ms 500

const REPLY = '{"id":"msg_ka","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"pooled"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}';

before(async () => {
  mock = await startMock();
  up = await startRawUpstream((sock, req) => {
    const close = req.headers['x-scenario'] === 'conn-close' ? 'connection: close\r\n' : '';
    // "early-hints": interim responses (103, then a stray 100) before the answer, in pieces.
    if (req.headers['x-scenario'] === 'early-hints') {
      sock.write('HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 100 Cont');
      setTimeout(() => sock.write('inue\r\n\r\n'), 10);
      setTimeout(() => sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_hints\r\ncontent-length: ${REPLY.length}\r\n\r\n${REPLY}`), 30);
      return;
    }
    sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_up_${up.requests.length}\r\n${close}content-length: ${REPLY.length}\r\n\r\n${REPLY}`);
    // "close-after" makes the upstream drop the connection once the answer is out, although it
    // did not say `connection: close` (what a server with a short keep-alive timeout does).
    if (req.headers['x-scenario'] === 'close-after') setTimeout(() => sock.destroy(), 30);
    if (req.headers['x-scenario'] === 'conn-close') sock.end();
  });
  [gw, gwUp, gwIdle] = await Promise.all([
    startRelay(mock.url),
    startRelay(up.url),
    startRelay(mock.url, { server: { idle_timeout_ms: 500 } }),
  ]);
});

after(async () => {
  await Promise.all([gw, gwUp, gwIdle].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (up) await up.close();
});

const msg = (prompt, extra = {}, headers = {}) => ({ headers: { ...API_HEADERS, ...headers }, body: messagesBody(prompt, extra) });

describe('client keep-alive', () => {
  test('several requests, streaming and not, on one TCP connection', async () => {
    const conn = await Conn.open(gw.port);
    const ids = new Set();
    const steps = [
      { req: msg('first'), check: (r) => assert.equal(r.json().content[0].text, 'Hello from sluice mock! You said: first') },
      { req: msg('second', { stream: true }), check: (r) => assert.equal(r.events.at(-1).event, 'message_stop') },
      { req: msg('third'), check: (r) => assert.equal(r.json().content[0].text, 'Hello from sluice mock! You said: third') },
      { req: msg('fourth', { stream: true }), check: (r) => assert.equal(r.events.filter((e) => e.event === 'content_block_delta').length, 7) },
      { req: { method: 'GET', path: '/v1/models', headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } }, check: (r) => assert.ok(Array.isArray(r.json().data)) },
      { req: { path: '/v1/messages/count_tokens?beta=true', headers: API_HEADERS, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'count me' }] }) }, check: (r) => assert.equal(typeof r.json().input_tokens, 'number') },
      { req: { method: 'GET', path: '/healthz' }, check: (r) => assert.equal(r.json().status, 'ok') },
      { req: msg('fifth', { stream: true }), check: (r) => assert.equal(r.events.at(-1).event, 'message_stop') },
    ];
    for (const [i, { req, check }] of steps.entries()) {
      assert.ok(!conn.ended, `connection still open before request ${i}`);
      await conn.send(req);
      const res = await conn.readResponse({ method: req.method || 'POST' });
      assert.equal(res.status, 200, `request ${i}: ${res.text}`);
      assert.ok(res.complete, `request ${i} complete`);
      assert.notEqual((res.headers.connection || '').toLowerCase(), 'close', `request ${i}`);
      check(res);
      ids.add(res.headers['x-sluice-request-id']);
    }
    assert.equal(ids.size, steps.length, 'a new request id per request');
    assert.ok(!conn.ended);
    conn.close();
  });

  test('errors do not spoil the connection: a 400, an upstream 429 and a broken stream, each followed by a good request', async () => {
    const conn = await Conn.open(gw.port);
    const bad = [
      { headers: API_HEADERS, body: '{"model":"m"}' },
      msg('limited', {}, { 'x-mock-fault': 'status-429' }),
      msg('broken', { stream: true }, { 'x-mock-fault': 'reset-after-5' }),
      msg('in-band', { stream: true }, { 'x-mock-fault': 'error-after-4' }),
    ];
    for (const req of bad) {
      await conn.send(req);
      const res = await conn.readResponse();
      assert.ok(res.complete, `${req.headers['x-mock-fault'] || '400'}: response complete`);
      await conn.send(msg('good'));
      const good = await conn.readResponse();
      assert.equal(good.status, 200, `after ${req.headers['x-mock-fault'] || '400'}: ${good.text}`);
    }
    assert.ok(!conn.ended);
    conn.close();
  });

  test('connection: close is honoured (non-streaming)', async () => {
    const conn = await Conn.open(gw.port);
    await conn.send(msg('bye', {}, { connection: 'close' }));
    const res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.ok(await conn.waitClosed(2000), 'the gateway closed the connection');
    assert.equal(conn.buf.length, 0);
    conn.close();
  });

  test('connection: close is honoured (streaming)', async () => {
    const conn = await Conn.open(gw.port);
    await conn.send(msg('bye stream', { stream: true }, { connection: 'close' }));
    const res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.events.at(-1).event, 'message_stop');
    assert.ok(await conn.waitClosed(2000));
    conn.close();
  });

  test('HTTP/1.0 without keep-alive: answered, then closed', async () => {
    const conn = await Conn.open(gw.port);
    await conn.write(buildRequest({ ...msg('old client'), version: '1.0' }));
    const res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.json().content[0].text, 'Hello from sluice mock! You said: old client');
    assert.ok(await conn.waitClosed(2000));
    conn.close();
  });

  test('HTTP/1.0 stream: not chunked (close-delimited), then closed', async () => {
    const conn = await Conn.open(gw.port);
    await conn.write(buildRequest({ ...msg('old client', { stream: true }), version: '1.0' }));
    const res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], undefined, 'HTTP/1.0 has no chunked encoding');
    assert.equal(res.events.at(-1).event, 'message_stop');
    assert.ok(res.text.startsWith('event: message_start\n'));
    assert.ok(await conn.waitClosed(2000));
    conn.close();
  });

  test('an idle keep-alive connection is closed after idle_timeout_ms (500)', async () => {
    const conn = await Conn.open(gwIdle.port);
    await conn.send(msg('then idle'));
    assert.equal((await conn.readResponse()).status, 200);
    const t0 = now();
    const closed = await conn.waitClosed(5000);
    const waited = (conn.endedAt ?? now()) - t0;
    conn.close();
    assert.ok(closed, 'closed');
    assert.ok(waited >= 350 && waited < 3000, `closed after ${waited.toFixed(0)} ms`);
  });

  test('three pipelined requests in one write get three responses, in order', async () => {
    const conn = await Conn.open(gw.port);
    await conn.write(Buffer.concat([buildRequest(msg('pipelined zero', { stream: true })), buildRequest(msg('pipelined one')), buildRequest(msg('pipelined two', { stream: true }))]));
    const z = await conn.readResponse();
    assert.equal(z.status, 200);
    assert.equal(z.events.at(-1).event, 'message_stop');
    const a = await conn.readResponse();
    const b = await conn.readResponse();
    assert.equal(a.status, 200);
    assert.equal(a.json().content[0].text, 'Hello from sluice mock! You said: pipelined one');
    assert.equal(b.status, 200);
    const text = b.events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('');
    assert.equal(text, 'Hello from sluice mock! You said: pipelined two');
    conn.close();
  });
});

describe('upstream keep-alive pooling', () => {
  test("an upstream's connection: close ends the upstream connection, not the client's", async () => {
    const conn = await Conn.open(gwUp.port);
    await conn.send(msg('upstream closes', {}, { 'x-scenario': 'conn-close' }));
    const res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.text, REPLY);
    assert.notEqual((res.headers.connection || '').toLowerCase(), 'close');
    await conn.send(msg('next'));
    const next = await conn.readResponse();
    assert.equal(next.status, 200);
    assert.equal(next.text, REPLY);
    conn.close();
  });

  test('sequential requests reuse one upstream connection', async () => {
    const conn = await Conn.open(gwUp.port); // one client connection: one worker, one pool
    for (let i = 0; i < 4; i++) {
      await conn.send(msg(`pool ${i}`));
      const res = await conn.readResponse();
      assert.equal(res.status, 200);
      assert.equal(res.text, REPLY);
    }
    conn.close();
    const seen = up.requests.filter((r) => /"pool \d"/.test(r.body.toString()));
    assert.equal(seen.length, 4);
    assert.equal(new Set(seen.map((r) => r.connId)).size, 1, 'one upstream connection for four requests');
  });

  test('interim (1xx) responses are read past: the client gets the answer, and the connection stays good', async () => {
    const conn = await Conn.open(gwUp.port);
    await conn.send(msg('hints', {}, { 'x-scenario': 'early-hints' }));
    const res = await conn.readResponse();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, REPLY);
    assert.equal(res.headers['request-id'], 'req_hints');
    assert.equal(res.headers.link, undefined, 'the 103 hints are not the answer');
    await conn.send(msg('after hints'));
    const next = await conn.readResponse();
    conn.close();
    assert.equal(next.status, 200);
    assert.equal(next.text, REPLY);
    const hinted = up.requests.filter((r) => r.body.includes('"hints"'));
    const after = up.requests.filter((r) => r.body.includes('after hints'));
    assert.equal(hinted.length, 1);
    assert.equal(after.length, 1);
    assert.equal(after[0].connId, hinted[0].connId, 'the pooled connection was reused: nothing was left on it');
  });

  test('a pooled connection the upstream closed is replaced transparently (attempts recorded in the log)', async () => {
    const conn = await Conn.open(gwUp.port);
    await conn.send(msg('warm', {}, { 'x-scenario': 'close-after' }));
    assert.equal((await conn.readResponse()).status, 200);
    await sleep(200); // the upstream has closed the pooled connection by now
    await conn.send(msg('after close'));
    const res = await conn.readResponse();
    conn.close();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, REPLY);
    const id = res.headers['x-sluice-request-id'];
    const line = await waitFor(() => gwUp.accessLog().find((l) => l.request_id === id), 3000);
    assert.ok(line, 'access log line');
    // 2 when the gateway found out by trying the dead connection, 1 if it noticed beforehand.
    assert.ok(line.attempts === 1 || line.attempts === 2, `attempts ${line.attempts}`);
    const warm = up.requests.filter((r) => r.body.includes('"warm"'));
    const after = up.requests.filter((r) => r.body.includes('after close'));
    assert.equal(warm.length, 1);
    assert.equal(after.length, 1, 'the request reached the upstream once');
    assert.notEqual(after[0].connId, warm[0].connId, 'on a new connection');
    assert.equal(line.status, 200);
  });
});
