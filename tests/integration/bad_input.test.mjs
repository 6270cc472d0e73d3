// Bad input: every refusal is Anthropic's error JSON with the request id in the headers and the
// body; framing attacks (request smuggling) are refused and the connection closed; slow and
// oversized clients are cut off; nothing crashes the gateway.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, sleep } from '../support/harness.mjs';
import {
  API_HEADERS, Conn, buildRequest, request, postMessages, messagesBody, gatewayConfig,
  assertAnthropicError, recordedRequest, now,
  startRelay,
} from './helpers.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startGateway({
    config: gatewayConfig({
      baseUrl: mock.url,
      server: { max_body_bytes: 1000, max_header_bytes: 2048, header_timeout_ms: 500, body_timeout_ms: 800 },
    }),
  });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

// A gateway of its own for requests that once killed the process (a g++ 12 coroutine bug, see
// docs/cpp-pitfalls.md), so a regression shows as that test failing, not as every later one.
async function onFreshGateway(fn) {
  const own = await startRelay(mock.url);
  try {
    return await fn(own);
  } finally {
    await own.stop('SIGKILL');
  }
}

// Sends raw bytes on a fresh connection and reads one response; also reports whether the
// gateway then closed the connection.
async function rawRequest(bytes, { timeoutMs = 5000, closeWithinMs = 2000 } = {}) {
  const conn = await Conn.open(gw.port);
  await conn.write(bytes);
  const res = await conn.readResponse({ timeoutMs });
  res.closedAfter = await conn.waitClosed(closeWithinMs);
  res.extra = conn.buf.toString('latin1'); // anything sent after the response
  conn.close();
  return res;
}

describe('content and JSON', () => {
  test('wrong content type: 415', async () => {
    const res = await onFreshGateway((g) => request(g.port, { headers: { ...API_HEADERS, 'content-type': 'text/plain' }, body: messagesBody() }));
    const body = assertAnthropicError(res, 415, 'invalid_request_error');
    assert.match(body.error.message, /text\/plain/);
  });

  test('form-encoded body to count_tokens: 415', async () => {
    const res = await onFreshGateway((g) => request(g.port, {
      path: '/v1/messages/count_tokens',
      headers: { ...API_HEADERS, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'model=m',
    }));
    assertAnthropicError(res, 415, 'invalid_request_error');
  });

  test('application/json with parameters and in other letter case is accepted', async () => {
    for (const ct of ['application/json; charset=utf-8', 'Application/JSON']) {
      const res = await request(gw.port, { headers: { ...API_HEADERS, 'content-type': ct }, body: messagesBody('ct') });
      assert.equal(res.status, 200, `${ct}: ${res.text}`);
    }
  });

  test('malformed JSON: 400 saying the line and column', async () => {
    const bad = '{\n  "model": "m",\n  "max_tokens": 5,\n  "messages": [,]\n}';
    const res = await postMessages(gw.port, { body: bad });
    const body = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.match(body.error.message, /line 4, column 16/);
  });

  test('truncated JSON: 400 saying where the body ended', async () => {
    const res = await postMessages(gw.port, { body: '{"model": "m", "max_tokens": 5, "messages": [' });
    const body = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.match(body.error.message, /line 1, column \d+/);
  });

  test('a JSON value that is not an object, and an empty body: 400', async () => {
    for (const b of ['[1,2,3]', '"text"', '']) {
      const res = await postMessages(gw.port, { body: b });
      assertAnthropicError(res, 400, 'invalid_request_error');
    }
  });

  for (const field of ['model', 'messages', 'max_tokens']) {
    test(`missing ${field}: 400 naming the field`, async () => {
      const obj = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
      delete obj[field];
      const res = await postMessages(gw.port, { body: JSON.stringify(obj) });
      const body = assertAnthropicError(res, 400, 'invalid_request_error');
      assert.match(body.error.message, new RegExp(field));
    });
  }

  test('wrong field types: 400 naming the field', async () => {
    for (const [patch, field] of [
      [{ max_tokens: 'ten' }, 'max_tokens'],
      [{ max_tokens: 0 }, 'max_tokens'],
      [{ model: 42 }, 'model'],
      [{ messages: 'hi' }, 'messages'],
      [{ stream: 'yes' }, 'stream'],
    ]) {
      const res = await postMessages(gw.port, { body: JSON.stringify({ model: 'm', max_tokens: 10, messages: [], ...patch }) });
      const body = assertAnthropicError(res, 400, 'invalid_request_error');
      assert.match(body.error.message, new RegExp(field), JSON.stringify(patch));
    }
  });

  test('count_tokens: missing model is 400; no max_tokens is fine', async () => {
    const path = '/v1/messages/count_tokens';
    const bad = await request(gw.port, { path, headers: API_HEADERS, body: JSON.stringify({ messages: [] }) });
    assert.match(assertAnthropicError(bad, 400, 'invalid_request_error').error.message, /model/);
    const ok = await request(gw.port, { path, headers: API_HEADERS, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(typeof ok.json().input_tokens, 'number');
  });

  test('a refused request never reaches the upstream', async () => {
    const res = await postMessages(gw.port, { body: JSON.stringify({ model: 'm', messages: [] }) });
    assert.equal(res.status, 400);
    const recorded = await (await fetch(`${mock.url}/_mock/requests`)).json();
    assert.ok(!recorded.some((r) => r.body && r.body.model === 'm' && r.body.max_tokens === undefined && r.target === '/v1/messages'));
  });
});

describe('routes and methods', () => {
  test('unknown route: 404 not_found_error', async () => {
    for (const [method, path] of [['POST', '/v1/nothing'], ['GET', '/'], ['POST', '/v1/messagesX'], ['GET', '/v1/messages/batches']]) {
      const res = await onFreshGateway((g) => request(g.port, { method, path, headers: API_HEADERS, body: method === 'POST' ? messagesBody() : undefined }));
      assertAnthropicError(res, 404, 'not_found_error');
    }
  });

  for (const [what, req] of [
    ['a 404 (unknown route)', { method: 'GET', path: '/no/such/route' }],
    ['a 415 (wrong content type)', { headers: { ...API_HEADERS, 'content-type': 'text/plain' }, body: messagesBody() }],
  ]) {
    test(`the gateway survives ${what}`, async () => {
      await onFreshGateway(async (g) => {
        const first = await request(g.port, req);
        assert.ok(first.status === 404 || first.status === 415);
        await sleep(300);
        assert.equal(g.proc.signalCode, null, `gateway died: ${g.stderr()}`);
        const health = await request(g.port, { method: 'GET', path: '/healthz' });
        assert.equal(health.status, 200);
      });
    });
  }

  test('GET /v1/messages: 405', async () => {
    const res = await request(gw.port, { method: 'GET', path: '/v1/messages', headers: API_HEADERS });
    assertAnthropicError(res, 405, 'invalid_request_error');
  });

  test('POST /v1/models and DELETE /healthz: 405', async () => {
    const a = await request(gw.port, { method: 'POST', path: '/v1/models', headers: API_HEADERS, body: '{}' });
    assertAnthropicError(a, 405, 'invalid_request_error');
    const b = await request(gw.port, { method: 'DELETE', path: '/healthz' });
    assertAnthropicError(b, 405, 'invalid_request_error');
  });

  test('an absolute-form request target (RFC 9112 §3.2.2) is routed like its path', async () => {
    const res = await onFreshGateway((g) => request(g.port, { path: `http://127.0.0.1:${g.port}/v1/messages`, headers: API_HEADERS, body: messagesBody('absolute') }));
    assert.equal(res.status, 200, res.text);
  });

  test('405 names the allowed method in an Allow header (RFC 9110 §15.5.6)', async () => {
    const res = await request(gw.port, { method: 'GET', path: '/v1/messages', headers: API_HEADERS });
    assert.equal(res.status, 405);
    assert.match(res.headers['allow'] || '', /POST/);
  });
});

describe('limits', () => {
  test('body over max_body_bytes (1000): 413 request_too_large', async () => {
    const big = messagesBody('x'.repeat(2000));
    const res = await rawRequest(buildRequest({ headers: API_HEADERS, body: big }));
    assertAnthropicError(res, 413, 'request_too_large');
    assert.ok(res.closedAfter, 'connection closed after the 413');
  });

  test('a body of exactly max_body_bytes is accepted; one byte more is 413', async () => {
    const sized = (n) => { const b = messagesBody(''); return messagesBody('z'.repeat(n - Buffer.byteLength(b))); };
    assert.equal(Buffer.byteLength(sized(1000)), 1000);
    const ok = await postMessages(gw.port, { body: sized(1000) });
    assert.equal(ok.status, 200, ok.text);
    const tooBig = await rawRequest(buildRequest({ headers: API_HEADERS, body: sized(1001) }));
    assertAnthropicError(tooBig, 413, 'request_too_large');
  });

  test('Content-Length: 100000000 and no body: 413 at once, without waiting for the body', async () => {
    const conn = await Conn.open(gw.port);
    const t0 = now();
    await conn.write(buildRequest({ headers: { ...API_HEADERS, 'content-length': '100000000' } }).toString('latin1'));
    const res = await conn.readResponse({ timeoutMs: 5000 });
    const elapsed = now() - t0;
    assertAnthropicError(res, 413, 'request_too_large');
    assert.ok(elapsed < 2000, `413 after ${elapsed.toFixed(0)} ms`);
    assert.ok(await conn.waitClosed(2000), 'connection closed after the 413');
    conn.close();
  });

  test('a chunked body over max_body_bytes: 413', async () => {
    const chunk = 'a'.repeat(600);
    const bytes = Buffer.concat([
      buildRequest({ headers: { ...API_HEADERS, 'transfer-encoding': 'chunked' } }),
      Buffer.from(`258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`),
    ]);
    const res = await rawRequest(bytes);
    assertAnthropicError(res, 413, 'request_too_large');
  });

  test('Expect: 100-continue with an oversized Content-Length: 413 and no 100 Continue', async () => {
    const res = await rawRequest(buildRequest({ headers: { ...API_HEADERS, expect: '100-continue', 'content-length': '5000' } }));
    assert.equal(res.interim.length, 0);
    assertAnthropicError(res, 413, 'request_too_large');
  });

  test('headers over max_header_bytes (2048): 431', async () => {
    const res = await rawRequest(buildRequest({ headers: { ...API_HEADERS, 'x-big': 'b'.repeat(3000) }, body: messagesBody() }));
    assertAnthropicError(res, 431, 'request_too_large');
    assert.ok(res.closedAfter);
  });

  test('a request line over max_header_bytes: 431', async () => {
    const res = await rawRequest(buildRequest({ path: `/v1/messages?${'q'.repeat(3000)}`, headers: API_HEADERS, body: messagesBody() }));
    assertAnthropicError(res, 431, 'request_too_large');
  });

  test('a client sending its headers a byte every 200 ms is cut off (header_timeout_ms 500)', async () => {
    const conn = await Conn.open(gw.port);
    const t0 = now();
    const head = buildRequest({ headers: { ...API_HEADERS, 'x-pad': 'p'.repeat(100) }, body: messagesBody() });
    let sent = 0;
    while (!conn.ended && sent < head.length && now() - t0 < 6000) {
      await conn.write(head.subarray(sent, sent + 1));
      sent++;
      await sleep(200);
    }
    const elapsed = (conn.endedAt ?? now()) - t0;
    assert.ok(conn.ended, `still connected after ${elapsed.toFixed(0)} ms (${sent} bytes sent)`);
    assert.ok(elapsed >= 400, `cut off after ${elapsed.toFixed(0)} ms, before header_timeout`);
    assert.ok(elapsed < 3000, `cut off after ${elapsed.toFixed(0)} ms`);
    conn.close();
  });

  test('a client that stalls in the middle of its body is cut off (body_timeout_ms 800)', async () => {
    const conn = await Conn.open(gw.port);
    const t0 = now();
    const full = buildRequest({ headers: API_HEADERS, body: messagesBody('stall') });
    await conn.write(full.subarray(0, full.length - 10));
    const closed = await conn.waitClosed(5000);
    const elapsed = (conn.endedAt ?? now()) - t0;
    conn.close();
    assert.ok(closed, 'connection closed');
    assert.ok(elapsed >= 600 && elapsed < 3000, `cut off after ${elapsed.toFixed(0)} ms`);
  });
});

describe('request smuggling and framing', () => {
  const smuggled = 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n';

  test('Content-Length together with Transfer-Encoding: 400 and the connection closed', async () => {
    for (const order of [0, 1]) {
      const te = ['transfer-encoding', 'chunked'];
      const cl = ['content-length', '5'];
      const head = buildRequest({ headers: [...Object.entries(API_HEADERS), ...(order ? [te, cl] : [cl, te])] });
      const res = await rawRequest(Buffer.concat([head, Buffer.from(`0\r\n\r\n${smuggled}`)]));
      assertAnthropicError(res, 400, 'invalid_request_error');
      assert.ok(res.closedAfter, 'connection closed');
      assert.equal(res.extra, '', 'the smuggled request got no answer');
    }
  });

  test('two conflicting Content-Length headers: 400 and closed', async () => {
    const body = messagesBody('hi');
    const head = buildRequest({ headers: [...Object.entries(API_HEADERS), ['content-length', String(body.length)], ['content-length', String(body.length - 20)]] });
    const res = await rawRequest(Buffer.concat([head, Buffer.from(body)]));
    assertAnthropicError(res, 400, 'invalid_request_error');
    assert.ok(res.closedAfter);
    assert.equal(res.extra, '');
  });

  test('a Content-Length list with different values: 400', async () => {
    const res = await rawRequest(buildRequest({ headers: { ...API_HEADERS, 'content-length': '5, 6' }, body: '{"a":' }));
    assertAnthropicError(res, 400, 'invalid_request_error');
    assert.ok(res.closedAfter);
  });

  test('bad chunk size (zz): 400 and closed', async () => {
    const head = buildRequest({ headers: { ...API_HEADERS, 'transfer-encoding': 'chunked' } });
    const res = await rawRequest(Buffer.concat([head, Buffer.from('zz\r\n{"model":"m"}\r\n0\r\n\r\n')]));
    assertAnthropicError(res, 400, 'invalid_request_error');
    assert.ok(res.closedAfter);
  });

  test('a Transfer-Encoding other than chunked: 400 and closed', async () => {
    const head = buildRequest({ headers: { ...API_HEADERS, 'transfer-encoding': 'gzip' } });
    const res = await rawRequest(Buffer.concat([head, Buffer.from(`${messagesBody()}${smuggled}`)]));
    assert.ok(res.status === 400 || res.status === 501, `status ${res.status}`);
    assertAnthropicError(res, res.status, res.status === 400 ? 'invalid_request_error' : res.json().error.type);
    assert.ok(res.closedAfter);
  });

  test('whitespace between a header name and the colon: 400', async () => {
    const head = Buffer.from(`POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nTransfer-Encoding : chunked\r\ncontent-length: 4\r\n\r\n`);
    const res = await rawRequest(Buffer.concat([head, Buffer.from(`0\r\n\r\n${smuggled}`)]));
    assertAnthropicError(res, 400, 'invalid_request_error');
    assert.ok(res.closedAfter);
  });
});

describe('valid but unusual framing', () => {
  test('Expect: 100-continue gets 100 Continue first, then the response', async () => {
    const body = messagesBody('continue please');
    const conn = await Conn.open(gw.port);
    await conn.write(buildRequest({ headers: { ...API_HEADERS, expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) } }));
    const i = await conn.needText('\r\n\r\n', now() + 3000);
    assert.ok(i >= 0, 'an interim response came before the body was sent');
    assert.match(conn.buf.subarray(0, i).toString('latin1'), /^HTTP\/1\.1 100 Continue$/);
    await conn.write(body);
    const res = await conn.readResponse({ timeoutMs: 5000 });
    conn.close();
    assert.equal(res.interim.length, 1);
    assert.equal(res.interim[0].status, 100);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().content[0].text, 'Hello from sluice mock! You said: continue please');
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['expect'], undefined, 'Expect is not forwarded');
  });

  test('a chunked request body works and is forwarded with its exact bytes', async () => {
    const body = messagesBody('chunked upload');
    const parts = [body.slice(0, 7), body.slice(7, 40), body.slice(40)];
    const wire = parts.map((p, i) => `${Buffer.byteLength(p).toString(16)}${i === 1 ? ';ext=1' : ''}\r\n${p}\r\n`).join('') + '0\r\n\r\n';
    const head = buildRequest({ headers: { ...API_HEADERS, 'transfer-encoding': 'chunked' } });
    const conn = await Conn.open(gw.port);
    await conn.write(head);
    for (const piece of [wire.slice(0, 5), wire.slice(5, 30), wire.slice(30)]) { await conn.write(piece); await sleep(20); }
    const res = await conn.readResponse({ timeoutMs: 5000 });
    conn.close();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().content[0].text, 'Hello from sluice mock! You said: chunked upload');
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['transfer-encoding'], undefined);
    assert.equal(Number(rec.headers['content-length']), Buffer.byteLength(body));
    assert.deepEqual(rec.body, JSON.parse(body));
  });
});

describe('nothing crashes the gateway', () => {
  test('garbage on the wire gets a 4xx or a closed connection', async () => {
    const inputs = [
      'HELLO\r\n\r\n',
      'GET\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 18446744073709551616\r\n\r\n',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\n',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\nbad header line\r\n\r\n',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-nul: a\0b\r\n\r\n',
      'GET /healthz HTTP/1.1\nhost: x\n\n',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-folded: a\r\n b\r\ncontent-length: 2\r\n\r\n{}',
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{}',
      '\r\n\r\n\r\n',
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), // a TLS ClientHello
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    ];
    for (const input of inputs) {
      const res = await rawRequest(Buffer.from(input), { timeoutMs: 3000, closeWithinMs: 1500 });
      const label = JSON.stringify(Buffer.from(input).subarray(0, 40).toString('latin1'));
      if (res.status) {
        assert.ok((res.status >= 400 && res.status < 500) || res.status === 200, `${label}: status ${res.status}`);
        if (res.status !== 200) {
          assert.equal(res.json().type, 'error', label);
          assert.match(res.headers['x-sluice-request-id'] || '', /^req_/, label);
        }
      } else {
        assert.ok(res.closed || res.closedAfter, `${label}: neither answered nor closed`);
      }
    }
  });

  test('a client that disconnects mid-body, mid-stream and mid-head does no harm', async () => {
    const body = messagesBody('bye');
    const c1 = await Conn.open(gw.port);
    await c1.write(buildRequest({ headers: API_HEADERS, body }).subarray(0, 200));
    c1.close();
    const c2 = await Conn.open(gw.port);
    await c2.write(buildRequest({ headers: { ...API_HEADERS, 'x-mock-tokens-per-second': '50' }, body: messagesBody('a b c d e f g h', { stream: true }) }));
    await c2.needText('content_block_delta', now() + 3000);
    c2.sock.resetAndDestroy();
    const c3 = await Conn.open(gw.port);
    await c3.write('POST /v1/mess');
    c3.close();
    await sleep(200);
    assert.equal(gw.proc.signalCode, null, gw.stderr());
    assert.equal((await request(gw.port, { method: 'GET', path: '/healthz' })).status, 200);
  });

  test('after all of the above the gateway is alive and /healthz answers 200', async () => {
    assert.equal(gw.proc.exitCode, null, `gateway exited: ${gw.stderr()}`);
    assert.equal(gw.proc.signalCode, null);
    const res = await request(gw.port, { method: 'GET', path: '/healthz' });
    assert.equal(res.status, 200);
    assert.equal(res.json().status, 'ok');
    const ok = await postMessages(gw.port, { body: messagesBody('still here') });
    assert.equal(ok.status, 200);
  });
});
