// Operations: the JSON-lines access log (complete, and free of keys and prompt text), SIGTERM
// draining, /healthz, and the pass-through routes GET /v1/models and count_tokens.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { startMock, startGateway, sleep } from '../support/harness.mjs';
import {
  API_HEADERS, Conn, buildRequest, request, postMessages, messagesBody, gatewayConfig, direct,
  recordedRequest, waitFor, within, now,
  startRelay,
} from './helpers.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startRelay(mock.url);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

// One request on its own connection; returns the response plus the exact byte counts.
async function exchange(port, bytes, opts = {}) {
  const conn = await Conn.open(port);
  await conn.write(bytes);
  const res = await conn.readResponse(opts);
  await conn.waitClosed(100);
  res.bytesSent = bytes.length;
  res.bytesReceived = conn.bytesReceived;
  conn.close();
  return res;
}

describe('access log', () => {
  const KEY = 'sk-ant-api03-SECRET-KEY-9f8e7d6c5b4a';
  const TOKEN = 'sk-ant-oat01-SECRET-BEARER-1a2b3c';
  const CANARY = 'CANARY-purple-elephant-prompt-7731';
  const SYS_CANARY = 'SYSCANARY-never-log-me-4411';

  test('one JSON line per request with every field, and no keys or prompt text', async () => {
    const body = JSON.stringify({
      model: 'claude-canary-model',
      max_tokens: 100,
      system: [{ type: 'text', text: SYS_CANARY }],
      messages: [{ role: 'user', content: `please repeat ${CANARY}` }],
    });
    const streamBody = JSON.stringify({ ...JSON.parse(body), stream: true });
    const keyHeaders = { ...API_HEADERS, 'x-api-key': KEY };
    const bearerHeaders = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const cases = [
      { name: 'plain', bytes: buildRequest({ headers: keyHeaders, body }), want: { method: 'POST', route: '/v1/messages', model: 'claude-canary-model', status: 200, upstream_status: 200, attempts: 1, stream: false } },
      { name: 'stream', bytes: buildRequest({ path: '/v1/messages?beta=true', headers: bearerHeaders, body: streamBody }), want: { method: 'POST', route: '/v1/messages', model: 'claude-canary-model', status: 200, upstream_status: 200, attempts: 1, stream: true } },
      { name: 'invalid', bytes: buildRequest({ headers: keyHeaders, body: JSON.stringify({ model: 'claude-canary-model', messages: [{ role: 'user', content: CANARY }] }) }), want: { method: 'POST', route: '/v1/messages', status: 400, upstream_status: 0, attempts: 0, stream: false } },
      { name: 'upstream429', bytes: buildRequest({ headers: { ...keyHeaders, 'x-mock-fault': 'status-429' }, body }), want: { route: '/v1/messages', model: 'claude-canary-model', status: 429, upstream_status: 429, attempts: 1, stream: false } },
      { name: 'broken', bytes: buildRequest({ headers: { ...keyHeaders, 'x-mock-fault': 'reset-after-5' }, body: streamBody }), want: { route: '/v1/messages', model: 'claude-canary-model', status: 200, upstream_status: 200, attempts: 1, stream: true } },
      { name: 'models', bytes: buildRequest({ method: 'GET', path: '/v1/models?limit=1', headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' } }), want: { method: 'GET', route: '/v1/models', status: 200, upstream_status: 200, attempts: 1 } },
    ];
    const results = {};
    for (const c of cases) results[c.name] = await exchange(gw.port, c.bytes);
    // A framing error is refused before any handler runs; it is logged too.
    const smuggle = Buffer.from(`POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: ${KEY}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`);
    results.framing = await exchange(gw.port, smuggle);
    assert.equal(results.framing.status, 400);

    const ids = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.headers['x-sluice-request-id']]));
    const lines = await waitFor(() => {
      const all = gw.accessLog();
      return Object.values(ids).every((id) => all.some((l) => l.request_id === id)) && all;
    }, 5000);
    assert.ok(lines, `all requests logged; log: ${existsSync(gw.accessLogPath) ? readFileSync(gw.accessLogPath, 'utf8') : '(none)'}`);
    const byId = (id) => { const m = lines.filter((l) => l.request_id === id); assert.equal(m.length, 1, `one line for ${id}`); return m[0]; };

    for (const c of cases) {
      const line = byId(ids[c.name]);
      const res = results[c.name];
      for (const [k, v] of Object.entries(c.want)) assert.equal(line[k], v, `${c.name}.${k} (line ${JSON.stringify(line)})`);
      assert.equal(typeof line.ts, 'string');
      assert.equal(typeof line.latency_ms, 'number');
      assert.equal(typeof line.ttfb_ms, 'number', `${c.name}.ttfb_ms`);
      assert.ok(line.latency_ms >= 0 && line.ttfb_ms >= 0 && line.ttfb_ms <= line.latency_ms, `${c.name}: ttfb ${line.ttfb_ms} latency ${line.latency_ms}`);
      assert.equal(line.bytes_in, res.bytesSent, `${c.name}.bytes_in`);
      assert.equal(line.bytes_out, res.bytesReceived, `${c.name}.bytes_out`);
      assert.equal(typeof line.stream, 'boolean');
      if (c.want.upstream_status) assert.equal(line.upstream_request_id, res.headers['request-id'], `${c.name}.upstream_request_id`);
    }
    assert.ok(byId(ids.broken).error, 'a broken stream is marked as an error');
    assert.ok(byId(ids.invalid).error);
    assert.equal(byId(ids.plain).error, undefined);
    const framing = byId(ids.framing);
    assert.equal(framing.status, 400);
    assert.equal(typeof framing.route, 'string');

    // The replies echo the prompt, so neither they nor the request bodies may reach the log.
    const text = readFileSync(gw.accessLogPath, 'utf8');
    for (const secret of [KEY, TOKEN, 'SECRET', CANARY, SYS_CANARY, 'purple-elephant', 'please repeat']) {
      assert.ok(!text.includes(secret), `the access log contains ${secret}`);
    }
  });

  test('a request refused before routing (framing error, 413, 431) logs the bytes it was actually sent', async () => {
    const bytes = Buffer.from('POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n');
    const res = await exchange(gw.port, bytes);
    assert.equal(res.status, 400);
    const id = res.headers['x-sluice-request-id'];
    const line = await waitFor(() => gw.accessLog().find((l) => l.request_id === id), 3000);
    assert.ok(line, 'logged');
    assert.equal(line.status, 400);
    assert.equal(line.bytes_out, res.bytesReceived);
  });

  test('SLUICE_ACCESS_LOG=- writes the lines to stdout', async () => {
    const g = await startRelay(mock.url, { env: { SLUICE_ACCESS_LOG: '-' } });
    try {
      const res = await postMessages(g.port, { body: messagesBody('stdout log') });
      assert.equal(res.status, 200);
      const id = res.headers['x-sluice-request-id'];
      const line = await waitFor(() => g.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.request_id === id), 3000);
      assert.ok(line, `stdout: ${g.stdout()}`);
      assert.equal(line.status, 200);
    } finally {
      await g.stop();
    }
  });
});

describe('routes that pass through', () => {
  test('/healthz: 200 {"status":"ok"}', async () => {
    const res = await request(gw.port, { method: 'GET', path: '/healthz' });
    assert.equal(res.status, 200);
    assert.equal(res.json().status, 'ok');
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.match(res.headers['x-sluice-request-id'], /^req_/);
  });

  test('GET /v1/models equals the upstream list; the query string is forwarded', async () => {
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
    const [a, b] = await Promise.all([
      request(gw.port, { method: 'GET', path: '/v1/models', headers }),
      direct(mock, { method: 'GET', path: '/v1/models', headers }),
    ]);
    assert.equal(a.status, 200);
    assert.deepEqual(a.json(), b.json());
    assert.ok(a.json().data.length >= 6);
    const page = await request(gw.port, { method: 'GET', path: '/v1/models?limit=2', headers });
    assert.equal(page.status, 200);
    assert.equal(page.json().data.length, 2);
    assert.equal(page.json().has_more, true);
    const rec = await recordedRequest(mock, page.headers['request-id']);
    assert.equal(rec.target, '/v1/models?limit=2');
    assert.equal(rec.method, 'GET');
  });

  test('GET /v1/models/{id}: alias resolved upstream; unknown id: the upstream 404 is relayed', async () => {
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
    const one = await request(gw.port, { method: 'GET', path: '/v1/models/claude-sonnet-4-5', headers });
    assert.equal(one.status, 200);
    assert.equal(one.json().id, 'claude-sonnet-4-5-20250929');
    assert.equal(one.json().type, 'model');
    const missing = await request(gw.port, { method: 'GET', path: '/v1/models/no-such-model', headers });
    assert.equal(missing.status, 404);
    assert.equal(missing.json().error.type, 'not_found_error');
    assert.equal(missing.json().request_id, missing.headers['request-id'], "the upstream's error, unchanged");
    assert.notEqual(missing.headers['x-sluice-request-id'], missing.headers['request-id']);
    // The gateway is still up after relaying a 404.
    assert.equal((await request(gw.port, { method: 'GET', path: '/healthz' })).status, 200);
  });

  test('POST /v1/messages/count_tokens?beta=true equals the upstream answer', async () => {
    const body = JSON.stringify({ model: 'claude-x', system: 'be brief', messages: [{ role: 'user', content: 'count these tokens please' }] });
    const opts = { path: '/v1/messages/count_tokens?beta=true', headers: { ...API_HEADERS, 'anthropic-beta': 'token-counting-2024-11-01' }, body };
    const [a, b] = await Promise.all([request(gw.port, opts), direct(mock, opts)]);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json(), b.json());
    assert.equal(a.json().input_tokens, Math.ceil(Buffer.byteLength('be briefusercount these tokens please') / 4));
    const rec = await recordedRequest(mock, a.headers['request-id']);
    assert.equal(rec.target, '/v1/messages/count_tokens?beta=true');
    assert.equal(rec.headers['anthropic-beta'], 'token-counting-2024-11-01');
    assert.deepEqual(rec.body, JSON.parse(body));
  });
});

describe('built-in provider', () => {
  test('--upstream mock: the quickstart answers streaming and non-streaming without any key', async () => {
    const g = await startGateway({ upstream: 'mock' });
    try {
      const headers = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
      const plain = await request(g.port, { headers, body: messagesBody('quickstart') });
      assert.equal(plain.status, 200, plain.text);
      assert.equal(plain.json().content[0].text, 'Hello from sluice mock! You said: quickstart');
      const stream = await request(g.port, { headers, body: messagesBody('quickstart stream', { stream: true }) });
      assert.equal(stream.status, 200);
      assert.equal(stream.events.at(-1).event, 'message_stop');
      assert.match(stream.headers['x-sluice-request-id'], /^req_/);
    } finally {
      const exit = await g.stop();
      assert.equal(exit.code, 0);
    }
  });
});

describe('SIGTERM', () => {
  const prompt = 'a b c d e f g h i j k l m n o p q r s t u v w x';

  test('an in-flight stream completes, new connections are refused, exit 0 within the drain deadline', async () => {
    const g = await startRelay(mock.url, { server: { drain_timeout_ms: 8000 } });
    try {
      const conn = await Conn.open(g.port);
      // An idle keep-alive connection as well: draining must close it, not wait for it.
      const idle = await Conn.open(g.port);
      await idle.send({ method: 'GET', path: '/healthz' });
      assert.equal((await idle.readResponse({ method: 'GET' })).status, 200);

      await conn.send({ headers: { ...API_HEADERS, 'x-mock-tokens-per-second': '20' }, body: messagesBody(prompt, { stream: true }) });
      let tSignal;
      const done = conn.readResponse({
        timeoutMs: 15000,
        onEvent: (ev) => {
          if (ev.event === 'content_block_delta' && !tSignal) { tSignal = now(); process.kill(g.proc.pid, 'SIGTERM'); }
        },
      });
      await waitFor(() => tSignal, 5000, 10);
      assert.ok(tSignal, 'stream started');
      await sleep(300);

      // A new connection after the signal: refused, or answered 503 on /healthz.
      let outcome;
      try {
        const late = await Conn.open(g.port, '127.0.0.1', 2000);
        await late.send({ method: 'GET', path: '/healthz' });
        const r = await late.readResponse({ timeoutMs: 3000, method: 'GET' });
        outcome = r.status ? `status ${r.status}` : 'closed without an answer';
        late.close();
      } catch (e) {
        outcome = e.code;
      }
      assert.ok(outcome === 'ECONNREFUSED' || outcome === 'status 503', `new connection after SIGTERM: ${outcome}`);

      assert.ok(await idle.waitClosed(3000), 'the idle keep-alive connection was closed');
      idle.close();

      const res = await done;
      assert.equal(res.status, 200);
      assert.ok(res.complete, 'stream body complete');
      assert.equal(res.events.at(-1).event, 'message_stop', 'the in-flight stream finished');
      assert.equal(res.events.filter((e) => e.event === 'content_block_delta').length, 6 + 24);
      assert.equal(res.headers.connection === 'close' || (await conn.waitClosed(3000)), true, 'connection closed after the stream');
      conn.close();

      const exit = await within(g.exited, 10000);
      const tExit = now();
      assert.ok(exit, 'the gateway exited');
      assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}; stderr: ${g.stderr()}`);
      assert.ok(tExit - tSignal < 8000, `exited ${(tExit - tSignal).toFixed(0)} ms after SIGTERM`);
      assert.ok(tExit >= res.tEnd - 50, 'not before the stream ended');
    } finally {
      await g.stop('SIGKILL');
    }
  });

  test('a stream longer than drain_timeout_ms is cut at the deadline and the process exits 0', async () => {
    const g = await startRelay(mock.url, { server: { drain_timeout_ms: 1000 } });
    try {
      const conn = await Conn.open(g.port);
      await conn.send({ headers: { ...API_HEADERS, 'x-mock-tokens-per-second': '4' }, body: messagesBody(prompt, { stream: true }) });
      let tSignal;
      const done = conn.readResponse({
        timeoutMs: 20000,
        onEvent: (ev) => {
          if (ev.event === 'content_block_delta' && !tSignal) { tSignal = now(); process.kill(g.proc.pid, 'SIGTERM'); }
        },
      });
      const exit = await within(g.exited, 12000);
      const tExit = now();
      assert.ok(exit, 'the gateway exited');
      assert.equal(exit.code, 0, `stderr: ${g.stderr()}`);
      const took = tExit - tSignal;
      assert.ok(took >= 900 && took < 5000, `exited ${took.toFixed(0)} ms after SIGTERM (drain_timeout_ms 1000)`);
      const res = await done;
      assert.equal(res.status, 200);
      assert.ok(!res.events.some((e) => e.event === 'message_stop'), 'the stream did not pretend to finish');
      conn.close();
    } finally {
      await g.stop('SIGKILL');
    }
  });

  test('--upstream mock: an in-flight paced stream from the built-in provider finishes during the drain', async () => {
    const g = await startGateway({ upstream: 'mock', config: 'server:\n  drain_timeout_ms: 8000\nmock:\n  tokens_per_second: 10\n' });
    try {
      const conn = await Conn.open(g.port);
      await conn.send({ headers: API_HEADERS, body: messagesBody('a b c d e f g h i j', { stream: true }) });
      let tSignal;
      const res = await conn.readResponse({
        timeoutMs: 15000,
        onEvent: (ev) => { if (ev.event === 'content_block_delta' && !tSignal) { tSignal = now(); process.kill(g.proc.pid, 'SIGTERM'); } },
      });
      conn.close();
      assert.equal(res.status, 200);
      assert.equal(res.events.at(-1).event, 'message_stop');
      assert.equal(res.events.filter((e) => e.event === 'content_block_delta').length, 16);
      const exit = await within(g.exited, 10000);
      assert.ok(exit, 'exited');
      assert.equal(exit.code, 0);
    } finally {
      await g.stop('SIGKILL');
    }
  });

  test('an idle gateway exits at once on SIGTERM', async () => {
    const g = await startRelay(mock.url);
    const conn = await Conn.open(g.port); // an idle keep-alive connection
    await conn.send({ method: 'GET', path: '/healthz' });
    await conn.readResponse({ method: 'GET' });
    const t0 = now();
    process.kill(g.proc.pid, 'SIGTERM');
    const exit = await within(g.exited, 8000);
    conn.close();
    assert.ok(exit, 'exited');
    assert.equal(exit.code, 0);
    assert.ok(now() - t0 < 3000, `took ${(now() - t0).toFixed(0)} ms`);
  });
});
