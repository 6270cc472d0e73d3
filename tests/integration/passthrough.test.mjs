// Passthrough: the gateway in front of a `sluice mock` process (and of a raw recorder upstream
// for byte-level checks) relays requests and responses unchanged, apart from credentials and
// hop-by-hop headers.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway } from '../support/harness.mjs';
import {
  API_HEADERS, CLAUDE_CODE_BETAS, messagesBody, postMessages, request, direct, recordedRequest,
  startRawUpstream,
  startRelay, stripEventIds,
} from './helpers.mjs';

let mock;
let gw; // no provider key: the client's credentials pass through
let gwKey; // ANTHROPIC_API_KEY set
let gwClaudeKey; // CLAUDE_API_KEY set
let recorder; // raw upstream that records bytes
let gwRec;
let bodies; // raw upstream answering with large, chunked or broken non-SSE bodies
let gwBodies;

// A 3 MiB JSON answer: over the size the gateway sends in one piece with its head.
const BIG = Buffer.from(JSON.stringify({ type: 'message', content: [{ type: 'text', text: 'y'.repeat(3 * 2 ** 20) }], pad: '\u00e9\u20ac' }));

const PROVIDER_KEY = 'sk-ant-api03-PROVIDER-KEY-from-env';
const CLAUDE_PROVIDER_KEY = 'sk-ant-api03-CLAUDE-KEY-from-env';
const RECORDER_REPLY = '{"id":"msg_rec","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"recorded"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}';

before(async () => {
  mock = await startMock();
  [gw, gwKey, gwClaudeKey] = await Promise.all([
    startGateway({ upstream: mock.url }),
    startRelay(mock.url, { env: { ANTHROPIC_API_KEY: PROVIDER_KEY } }),
    startRelay(mock.url, { env: { CLAUDE_API_KEY: CLAUDE_PROVIDER_KEY } }),
  ]);
  recorder = await startRawUpstream((sock) => {
    const body = Buffer.from(RECORDER_REPLY);
    sock.write(
      'HTTP/1.1 200 OK\r\n' +
        'Content-Type: application/json\r\n' +
        'request-id: req_recorder_1\r\n' +
        'X-Custom-Resp: yes, exactly  this\r\n' +
        'Connection: keep-alive, X-Up-Hop\r\n' +
        'X-Up-Hop: must-not-pass\r\n' +
        'Keep-Alive: timeout=30\r\n' +
        'Proxy-Authenticate: Basic realm="up"\r\n' +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    sock.write(body);
  });
  bodies = await startRawUpstream((sock, req) => {
    const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_bodies\r\n';
    switch (req.headers['x-scenario']) {
      case 'big':
        sock.write(`${head}content-length: ${BIG.length}\r\n\r\n`);
        sock.write(BIG);
        break;
      case 'chunked': {
        const parts = [RECORDER_REPLY.slice(0, 10), RECORDER_REPLY.slice(10, 11), RECORDER_REPLY.slice(11)];
        sock.write(`${head}transfer-encoding: chunked\r\n\r\n`);
        sock.write(parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n');
        break;
      }
      case 'big-broken':
        sock.write(`${head}content-length: ${BIG.length}\r\n\r\n`);
        sock.end(BIG.subarray(0, 2 ** 20));
        break;
      case 'small-broken':
        sock.write(`${head}content-length: 500\r\n\r\n`);
        sock.end('{"type":"message","truncated');
        break;
      default:
        sock.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    }
  });
  [gwRec, gwBodies] = await Promise.all([startRelay(recorder.url), startRelay(bodies.url)]);
});

after(async () => {
  await Promise.all([gw, gwKey, gwClaudeKey, gwRec, gwBodies].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (recorder) await recorder.close();
  if (bodies) await bodies.close();
});

function withoutId(obj) {
  const copy = structuredClone(obj);
  delete copy.id;
  return copy;
}

describe('non-streaming', () => {
  test('the response equals what the mock sends: body, status, upstream headers; x-sluice-request-id added', async () => {
    const body = messagesBody('tell me about rivers');
    const [viaGw, straight] = await Promise.all([
      postMessages(gw.port, { body }),
      postMessages(mock.port, { body }),
    ]);
    assert.equal(viaGw.status, 200, viaGw.text);
    assert.equal(straight.status, 200);
    const got = viaGw.json();
    assert.deepEqual(withoutId(got), withoutId(straight.json()));
    assert.equal(got.content[0].text, 'Hello from sluice mock! You said: tell me about rivers');
    assert.equal(got.usage.output_tokens, 10); // one token per word
    assert.ok(got.usage.input_tokens >= 1);
    assert.match(got.id, /^msg_/);
    // Byte-identical apart from the random id.
    assert.equal(viaGw.text.replace(got.id, 'ID'), straight.text.replace(straight.json().id, 'ID'));

    // Upstream headers come back; the gateway adds its own id in another header.
    assert.match(viaGw.headers['request-id'], /^req_/);
    assert.match(viaGw.headers['x-sluice-request-id'], /^req_/);
    assert.notEqual(viaGw.headers['x-sluice-request-id'], viaGw.headers['request-id']);
    assert.match(viaGw.headers['content-type'], /^application\/json/);
    const rl = (h) => Object.keys(h).filter((k) => k.startsWith('anthropic-ratelimit-')).sort();
    assert.ok(rl(viaGw.headers).length >= 12, `ratelimit headers: ${rl(viaGw.headers)}`);
    assert.deepEqual(rl(viaGw.headers), rl(straight.headers));
    for (const k of rl(viaGw.headers)) if (k.endsWith('-limit')) assert.equal(viaGw.headers[k], straight.headers[k], k);
    assert.equal(viaGw.headers['anthropic-organization-id'], straight.headers['anthropic-organization-id']);
    assert.equal(Number(viaGw.headers['content-length']), viaGw.body.length);

    // request-id is the upstream's own: the mock recorded a request under that id.
    const rec = await recordedRequest(mock, viaGw.headers['request-id']);
    assert.equal(rec.method, 'POST');
    assert.equal(rec.target, '/v1/messages');
  });
});

describe('streaming', () => {
  test('the stream equals what the mock sends, byte for byte apart from the message id', async () => {
    const body = messagesBody('stream me a short answer', { stream: true });
    const [viaGw, straight] = await Promise.all([
      postMessages(gw.port, { body }),
      postMessages(mock.port, { body }),
    ]);
    assert.equal(viaGw.status, 200);
    assert.ok(viaGw.complete, 'chunked body ended with the last chunk');
    assert.match(viaGw.headers['content-type'], /^text\/event-stream/);
    assert.equal(viaGw.headers['cache-control'], 'no-cache');
    assert.match(viaGw.headers['request-id'], /^req_/);
    assert.match(viaGw.headers['x-sluice-request-id'], /^req_/);
    assert.notEqual(viaGw.headers['x-sluice-request-id'], viaGw.headers['request-id']);
    assert.ok(Object.keys(viaGw.headers).some((k) => k.startsWith('anthropic-ratelimit-')));

    const types = viaGw.events.map((e) => e.event);
    assert.deepEqual(types, straight.events.map((e) => e.event));
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(types.includes('ping'));
    const idGw = JSON.parse(viaGw.events[0].data).message.id;
    const idMock = JSON.parse(straight.events[0].data).message.id;
    // Byte for byte, but for the `id:` line sluice adds to each event (resumable streams).
    assert.equal(stripEventIds(viaGw.text).replaceAll(idGw, 'ID'), straight.text.replaceAll(idMock, 'ID'));

    const text = viaGw.events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => JSON.parse(e.data).delta.text)
      .join('');
    assert.equal(text, 'Hello from sluice mock! You said: stream me a short answer');
    const delta = JSON.parse(viaGw.events.find((e) => e.event === 'message_delta').data);
    assert.equal(delta.usage.output_tokens, 11);
    assert.equal(delta.delta.stop_reason, 'end_turn');
    await recordedRequest(mock, viaGw.headers['request-id']);
  });
});

describe('what the upstream receives', () => {
  // Odd spacing, unknown fields, a role:"system" message inside messages (Claude Code does
  // this), unicode, numbers in unusual notation.
  const ODD_BODY =
    '{ "model" :"claude-opus-5-5",\n\t"max_tokens":  128000 ,"messages":[\n' +
    '  {"role":"system","content":"per-turn control \\u00e9 \u00e9\u20ac"},\n' +
    '  {"role":"user","content":[{"type":"text","text":"say hello","cache_control":{"type":"ephemeral"}},' +
    '{"type":"brand_new_block","payload":{"x":[1,2.50,3e2,-0.0,null,true]}}]}  ],\n' +
    '"thinking":{"type":"adaptive","display":"omitted"},"context_management":{"edits":[]},' +
    '"output_config":{"effort":"high"},"metadata":{"user_id":"{\\"device\\":\\"d\\",\\"session\\":\\"s\\"}"},' +
    '"some_future_field":{"nested":{"deep":[{}]}},"stream":false }\n  ';

  const CLAUDE_CODE_HEADERS = {
    ...API_HEADERS,
    'anthropic-beta': CLAUDE_CODE_BETAS,
    'x-app': 'cli',
    'user-agent': 'claude-cli/2.1.332 (external, sdk-cli)',
    'X-Claude-Code-Session-Id': '6f1c2d8e-1111-4222-8333-944455556666',
    'anthropic-dangerous-direct-browser-access': 'true',
    'X-Stainless-Retry-Count': '0',
    'X-Stainless-Timeout': '600',
    'x-totally-unknown-header': 'value with  spaces, commas; and=equals',
  };

  test('headers, ?beta=true and the body reach the mock unchanged', async () => {
    const res = await request(gw.port, { path: '/v1/messages?beta=true', headers: CLAUDE_CODE_HEADERS, body: ODD_BODY });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.target, '/v1/messages?beta=true');
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
    assert.equal(rec.headers['anthropic-beta'], CLAUDE_CODE_BETAS);
    assert.equal(rec.headers['anthropic-beta'].split(',').length, 8);
    assert.equal(rec.headers['x-api-key'], API_HEADERS['x-api-key']);
    assert.equal(rec.headers['x-app'], 'cli');
    assert.equal(rec.headers['user-agent'], 'claude-cli/2.1.332 (external, sdk-cli)');
    assert.equal(rec.headers['x-claude-code-session-id'], '6f1c2d8e-1111-4222-8333-944455556666');
    assert.equal(rec.headers['anthropic-dangerous-direct-browser-access'], 'true');
    assert.equal(rec.headers['x-stainless-retry-count'], '0');
    assert.equal(rec.headers['x-stainless-timeout'], '600');
    assert.equal(rec.headers['x-totally-unknown-header'], 'value with  spaces, commas; and=equals');
    assert.equal(rec.headers['content-type'], 'application/json');
    assert.equal(Number(rec.headers['content-length']), Buffer.byteLength(ODD_BODY));
    assert.deepEqual(rec.body, JSON.parse(ODD_BODY));
    const content = res.json().content;
    assert.equal(content[0].type, 'thinking', 'thinking: adaptive reached the mock');
    assert.equal(content.find((b) => b.type === 'text').text, 'Hello from sluice mock! You said: say hello');
  });

  test('the body arrives byte for byte and unknown headers keep their exact value (raw upstream)', async () => {
    const before = recorder.requests.length;
    const res = await request(gwRec.port, {
      path: '/v1/messages?beta=true&x=%20y',
      headers: { ...API_HEADERS, 'anthropic-beta': CLAUDE_CODE_BETAS, 'X-Odd-Header': '  a\tb  c ' },
      body: ODD_BODY,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, RECORDER_REPLY);
    assert.equal(recorder.requests.length, before + 1);
    const up = recorder.requests.at(-1);
    assert.equal(up.method, 'POST');
    assert.equal(up.target, '/v1/messages?beta=true&x=%20y');
    assert.ok(up.body.equals(Buffer.from(ODD_BODY)), `body differs:\n${up.body}\n---\n${ODD_BODY}`);
    assert.equal(up.headers['anthropic-beta'], CLAUDE_CODE_BETAS);
    assert.equal(up.headers['x-odd-header'], 'a\tb  c');
    assert.equal(up.headers['host'], `127.0.0.1:${recorder.port}`);
  });

  test('upstream response headers pass through, hop-by-hop ones do not', async () => {
    const res = await request(gwRec.port, { headers: API_HEADERS, body: messagesBody('x') });
    assert.equal(res.status, 200);
    assert.equal(res.headers['request-id'], 'req_recorder_1');
    assert.equal(res.headers['x-custom-resp'], 'yes, exactly  this');
    assert.equal(res.headers['x-up-hop'], undefined, 'header named in Connection must not be relayed');
    assert.equal(res.headers['keep-alive'], undefined);
    assert.equal(res.headers['proxy-authenticate'], undefined);
    assert.ok(!/x-up-hop/i.test(res.headers['connection'] || ''));
    assert.match(res.headers['x-sluice-request-id'], /^req_/);
  });

  test('repeated headers are all forwarded', async () => {
    const res = await request(gw.port, {
      headers: [...Object.entries(API_HEADERS), ['anthropic-beta', 'beta-one-2025-01-01'], ['anthropic-beta', 'beta-two-2025-02-02']],
      body: messagesBody('two betas'),
    });
    assert.equal(res.status, 200);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['anthropic-beta'], 'beta-one-2025-01-01, beta-two-2025-02-02');
  });

  test('hop-by-hop request headers are not forwarded', async () => {
    const res = await request(gw.port, {
      headers: [
        ...Object.entries(API_HEADERS),
        ['Connection', 'keep-alive, X-Drop-Me'],
        ['X-Drop-Me', 'secret'],
        ['Keep-Alive', 'timeout=5'],
        ['TE', 'trailers'],
        ['Trailer', 'X-Foo'],
        ['Proxy-Authorization', 'Basic Zm9vOmJhcg=='],
        ['Proxy-Connection', 'keep-alive'],
        ['X-Keep-Me', 'kept'],
      ],
      body: messagesBody('hop'),
    });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    for (const h of ['x-drop-me', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']) {
      assert.equal(rec.headers[h], undefined, `${h} must not be forwarded`);
    }
    assert.ok(!/x-drop-me/i.test(rec.headers['connection'] || ''));
    assert.equal(rec.headers['x-keep-me'], 'kept');
    assert.equal(rec.headers['host'], `127.0.0.1:${mock.port}`, 'Host names the upstream, not the gateway');
  });
});

describe('non-SSE bodies of every framing', () => {
  test('a 3 MiB JSON answer arrives byte for byte with its Content-Length', async () => {
    const res = await request(gwBodies.port, { headers: { ...API_HEADERS, 'x-scenario': 'big' }, body: messagesBody('big') }, { timeoutMs: 30000 });
    assert.equal(res.status, 200);
    assert.equal(Number(res.headers['content-length']), BIG.length);
    assert.ok(res.body.equals(BIG), `got ${res.body.length} bytes`);
    assert.equal(res.headers['request-id'], 'req_bodies');
  });

  test('a chunked JSON answer arrives byte for byte', async () => {
    const res = await request(gwBodies.port, { headers: { ...API_HEADERS, 'x-scenario': 'chunked' }, body: messagesBody('chunked') });
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    assert.equal(res.text, RECORDER_REPLY);
  });

  test('a large answer the upstream cuts short is cut short for the client too (never looks complete)', async () => {
    const res = await request(gwBodies.port, { headers: { ...API_HEADERS, 'x-scenario': 'big-broken' }, body: messagesBody('broken') }, { timeoutMs: 15000 });
    assert.ok(res.status === 200 || res.status === 502, `status ${res.status}`);
    if (res.status === 200) {
      assert.ok(!res.complete, 'the body must not look complete');
      assert.ok(res.closed, 'the connection was closed');
    }
  });

  test('a small answer the upstream cuts short: 502, not a truncated 200', async () => {
    const res = await request(gwBodies.port, { headers: { ...API_HEADERS, 'x-scenario': 'small-broken' }, body: messagesBody('broken') });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json().error.type, 'api_error');
    assert.equal(res.json().request_id, res.headers['x-sluice-request-id']);
  });
});

describe('credentials', () => {
  test('without a provider key the client x-api-key is forwarded', async () => {
    const res = await postMessages(gw.port, { headers: { 'x-api-key': 'sk-ant-client-own-key' } });
    assert.equal(res.status, 200);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['x-api-key'], 'sk-ant-client-own-key');
    assert.equal(rec.headers['authorization'], undefined);
  });

  test('Authorization: Bearer is accepted and forwarded (no x-api-key)', async () => {
    const headers = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json', authorization: 'Bearer sk-ant-oat01-client-token' };
    const res = await request(gw.port, { headers, body: messagesBody('bearer') });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['authorization'], 'Bearer sk-ant-oat01-client-token');
    assert.equal(rec.headers['x-api-key'], undefined);
  });

  test('ANTHROPIC_API_KEY replaces the client x-api-key and Authorization upstream', async () => {
    const res = await postMessages(gwKey.port, {
      headers: { 'x-api-key': 'sk-ant-client-key-must-vanish', authorization: 'Bearer client-token-must-vanish' },
      body: messagesBody('provider key', { stream: true }),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.events.at(-1).event, 'message_stop');
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
    assert.equal(rec.headers['authorization'], undefined);
    assert.ok(!JSON.stringify(rec.headers).includes('must-vanish'));
  });

  test('ANTHROPIC_API_KEY replaces a Bearer-only client', async () => {
    const headers = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json', authorization: 'Bearer only-bearer-must-vanish' };
    const res = await request(gwKey.port, { headers, body: messagesBody('bearer replaced') });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
    assert.equal(rec.headers['authorization'], undefined);
  });

  test('with a provider key, a client without any credentials is served', async () => {
    const headers = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
    const res = await request(gwKey.port, { headers, body: messagesBody('no client key') });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
  });

  test('CLAUDE_API_KEY works as the provider key too', async () => {
    const res = await postMessages(gwClaudeKey.port, {
      headers: { 'x-api-key': 'sk-ant-client-key-must-vanish', authorization: 'Bearer client-token-must-vanish' },
    });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['x-api-key'], CLAUDE_PROVIDER_KEY);
    assert.equal(rec.headers['authorization'], undefined);
  });

  test('no credentials at all: the upstream 401 is relayed unchanged', async () => {
    const headers = { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
    const res = await request(gw.port, { headers, body: messagesBody('no key') });
    assert.equal(res.status, 401, res.text);
    const body = res.json();
    assert.equal(body.error.type, 'authentication_error');
    assert.equal(body.request_id, res.headers['request-id'], 'the upstream error body is not rewritten');
    assert.match(res.headers['x-sluice-request-id'], /^req_/);
  });
});
