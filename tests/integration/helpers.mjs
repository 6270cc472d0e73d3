// Helpers shared by the integration tests (not a test file itself: the CMake glob only picks
// up *.test.mjs). Everything here speaks raw HTTP/1.1 over `net` so that the tests see the
// exact bytes the gateway sends and control the exact bytes it receives. Every wait is bounded.
import net from 'node:net';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { sleep, startGateway, CLAUDE_CODE_BETA_LIST } from '../support/harness.mjs';

export const now = () => performance.now();

// Headers every Anthropic SDK request carries.
export const API_HEADERS = Object.freeze({
  'x-api-key': 'sk-ant-test-client-key',
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
});

// Claude Code 2.1.x sends these 8 betas (reference/claude-code.md), as one header value.
export const CLAUDE_CODE_BETAS = CLAUDE_CODE_BETA_LIST.join(',');

export function messagesBody(prompt = 'hi there', extra = {}) {
  return JSON.stringify({ model: 'claude-test-model', max_tokens: 256, messages: [{ role: 'user', content: prompt }], ...extra });
}

// The gateway retries upstream failures and trips circuit breakers (provider `retry:` and
// `breaker:` settings; tests/integration/resilience_*.test.mjs cover them). These tests check the
// plain relay, so every gateway they start has retries off and breakers that never open: an
// upstream error must reach the client exactly as the upstream sent it.
const RELAY_ONLY = ['    retry:', '      max_attempts: 1', '    breaker:', '      consecutive_failures: 1000000', '      min_requests: 1000000'];

// YAML for `sluice serve --config`: one Anthropic provider at `baseUrl`.
export function gatewayConfig({ baseUrl, server = {}, timeouts = {}, provider = {}, extra = '' }) {
  const lines = ['server:'];
  const srv = { threads: 2, ...server };
  for (const [k, v] of Object.entries(srv)) lines.push(`  ${k}: ${v}`);
  lines.push('providers:', '  - name: test', '    kind: anthropic', `    base_url: "${baseUrl}"`);
  for (const [k, v] of Object.entries(provider)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  if (Object.keys(timeouts).length) {
    lines.push('    timeouts:');
    for (const [k, v] of Object.entries(timeouts)) lines.push(`      ${k}: ${v}`);
  }
  lines.push(...RELAY_ONLY);
  return lines.join('\n') + '\n' + extra;
}

// `sluice serve` in front of `baseUrl` with gatewayConfig() (plain relay); `env` as for
// startGateway.
export function startRelay(baseUrl, { env, ...cfg } = {}) {
  return startGateway({ config: gatewayConfig({ baseUrl, ...cfg }), env });
}

// A TCP port nothing listens on (bound, then released).
export async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// Serialises a request. `headers` is an object or a list of [name, value] pairs (to send
// duplicates or control order). Host and Content-Length are added unless given (or unless
// Transfer-Encoding is given).
export function buildRequest({ method = 'POST', path = '/v1/messages', headers = {}, body, version = '1.1' } = {}) {
  const pairs = Array.isArray(headers) ? [...headers] : Object.entries(headers);
  const has = (n) => pairs.some(([k]) => k.toLowerCase() === n);
  if (!has('host')) pairs.unshift(['host', '127.0.0.1']);
  const bodyBuf = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (body !== undefined && !has('content-length') && !has('transfer-encoding')) pairs.push(['content-length', String(bodyBuf.length)]);
  const head = `${method} ${path} HTTP/${version}\r\n` + pairs.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyBuf]);
}

// One client TCP connection with an incremental HTTP/1.1 response reader, so that several
// requests can share it (keep-alive) and the arrival time of every body piece and every SSE
// event is known.
export class Conn {
  static open(port, host = '127.0.0.1', timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, host);
      const t = setTimeout(() => { sock.destroy(); reject(new Error('connect timeout')); }, timeoutMs);
      sock.once('connect', () => { clearTimeout(t); sock.setNoDelay(true); resolve(new Conn(sock)); });
      sock.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.ended = false;
    this.endedAt = undefined;
    this.error = null;
    this.waiters = [];
    this.bytesReceived = 0;
    sock.on('data', (d) => { this.bytesReceived += d.length; this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    const end = () => { if (!this.ended) { this.ended = true; this.endedAt = now(); } this.wake(); };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', (e) => { this.error = e; end(); });
  }

  get localPort() { return this.sock.localPort; }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // Resolves true when more bytes (or the end) arrived, false at the deadline.
  more(deadline) {
    if (this.ended) return Promise.resolve(false);
    const ms = deadline - now();
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  write(bytes) {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve(false);
      this.sock.write(bytes, (err) => resolve(!err));
    });
  }

  send(opts) { return this.write(buildRequest(opts)); }

  // Waits until `n` bytes are buffered; false at the deadline or the end.
  async need(n, deadline) {
    while (this.buf.length < n) {
      if (this.ended || now() >= deadline) return false;
      await this.more(deadline);
    }
    return true;
  }

  async needText(marker, deadline) {
    for (;;) {
      const i = this.buf.indexOf(marker);
      if (i >= 0) return i;
      if (this.ended || now() >= deadline) return -1;
      await this.more(deadline);
    }
  }

  take(n) {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return Buffer.from(out);
  }

  // Reads the head of the next response (1xx interim responses included, returned as is).
  async readHead(deadline) {
    const i = await this.needText('\r\n\r\n', deadline);
    if (i < 0) return null;
    const head = this.take(i + 4).toString('latin1');
    const lines = head.slice(0, -4).split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const headers = {};
    const rawHeaders = [];
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      const k = l.slice(0, c).trim().toLowerCase();
      const v = l.slice(c + 1).trim();
      rawHeaders.push([l.slice(0, c), v]);
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    return { version: m[1], status: Number(m[2]), reason: m[3] || '', headers, rawHeaders, rawHead: head, t: now() };
  }

  // Reads one whole response. Returns { status, reason, headers, body: Buffer, text, json(),
  // pieces: [{t, bytes}], events: [{event, data, raw, t}], interim: [heads of 1xx],
  // complete: whether the body's framing ended properly, tStart }.
  // `onHead(res)` runs as soon as the head is parsed; `onEvent(ev)` for each complete SSE event.
  async readResponse({ timeoutMs = 10000, onHead, onEvent, method = 'POST' } = {}) {
    const tStart = now();
    const deadline = tStart + timeoutMs;
    const interim = [];
    let head;
    for (;;) {
      head = await this.readHead(deadline);
      if (!head) return { status: 0, headers: {}, body: Buffer.alloc(0), text: '', events: [], pieces: [], interim, complete: false, timedOut: !this.ended, closed: this.ended };
      if (head.status >= 200) break;
      interim.push(head);
    }
    const res = { ...head, interim, pieces: [], events: [], complete: false, tStart };
    if (onHead) onHead(res);
    const sse = new SseSplitter((ev) => { res.events.push(ev); if (onEvent) onEvent(ev); });
    const emit = (bytes) => {
      if (!bytes.length) return;
      const t = now();
      res.pieces.push({ t, bytes });
      sse.push(bytes, t);
    };
    const te = (head.headers['transfer-encoding'] || '').toLowerCase();
    const noBody = method === 'HEAD' || head.status === 204 || head.status === 304;
    if (noBody) {
      res.complete = true;
    } else if (te.includes('chunked')) {
      for (;;) {
        const nl = await this.needText('\r\n', deadline);
        if (nl < 0) break;
        const sizeLine = this.buf.subarray(0, nl).toString('latin1');
        const size = parseInt(sizeLine.split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size line from the gateway: ${JSON.stringify(sizeLine)}`);
        if (size === 0) {
          // Last chunk: optional trailers, then an empty line.
          const end = await this.needText('\r\n\r\n', deadline);
          if (end >= 0) { this.take(end + 4); res.complete = true; }
          break;
        }
        // Hand over the chunk's data as it arrives (a chunk may come in several reads).
        this.take(nl + 2);
        let left = size;
        while (left > 0) {
          if (!this.buf.length && !(await this.need(1, deadline))) break;
          const n = Math.min(left, this.buf.length);
          emit(this.take(n));
          left -= n;
        }
        if (left > 0) break;
        if (!(await this.need(2, deadline))) break;
        const crlf = this.take(2).toString('latin1');
        if (crlf !== '\r\n') throw new Error(`chunk not followed by CRLF: ${JSON.stringify(crlf)}`);
      }
    } else if (head.headers['content-length'] !== undefined) {
      let left = Number(head.headers['content-length']);
      while (left > 0) {
        if (!this.buf.length && !(await this.need(1, deadline))) break;
        const n = Math.min(left, this.buf.length);
        emit(this.take(n));
        left -= n;
      }
      res.complete = left === 0;
    } else {
      // Close-delimited.
      for (;;) {
        if (this.buf.length) emit(this.take(this.buf.length));
        if (this.ended || now() >= deadline) break;
        await this.more(deadline);
      }
      res.complete = this.ended;
    }
    res.body = Buffer.concat(res.pieces.map((p) => p.bytes));
    res.text = res.body.toString('utf8');
    res.json = () => JSON.parse(res.text);
    res.timedOut = !res.complete && !this.ended && now() >= deadline;
    res.closed = this.ended;
    res.tEnd = now();
    return res;
  }

  // Resolves true if the server closes the connection within `ms` (bytes sent meanwhile are
  // kept in `buf`).
  async waitClosed(ms) {
    const deadline = now() + ms;
    while (!this.ended && now() < deadline) await this.more(deadline);
    return this.ended;
  }

  close() { this.sock.destroy(); }
}

// Splits an SSE byte stream into events at blank lines (LF, CRLF or CR line ends) and records
// when each became complete.
export class SseSplitter {
  constructor(onEvent) { this.text = ''; this.lineStart = 0; this.onEvent = onEvent; }
  push(bytes, t) {
    this.text += bytes.toString('utf8');
    const re = /\r\n|\r|\n/g;
    for (;;) {
      re.lastIndex = this.lineStart;
      const m = re.exec(this.text);
      // A CR at the very end may still be the first half of a CRLF.
      if (!m || (m[0] === '\r' && m.index === this.text.length - 1)) return;
      const empty = m.index === this.lineStart;
      this.lineStart = m.index + m[0].length;
      if (empty) {
        const raw = this.text.slice(0, this.lineStart);
        this.text = this.text.slice(this.lineStart);
        this.lineStart = 0;
        const ev = parseBlock(raw);
        if (ev) this.onEvent({ ...ev, raw, t });
      }
    }
  }
}

function parseBlock(raw) {
  let event = 'message';
  const data = [];
  let any = false;
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') { data.push(value); any = true; }
  }
  return any ? { event, data: data.join('\n') } : null;
}

// One request on a new connection: { ...response, conn } (the connection is closed unless
// keepOpen).
export async function request(port, opts = {}, { timeoutMs = 15000, keepOpen = false, onEvent, onHead } = {}) {
  const conn = await Conn.open(port);
  await conn.send(opts);
  const res = await conn.readResponse({ timeoutMs, onEvent, onHead, method: opts.method || 'POST' });
  if (!keepOpen) conn.close();
  res.conn = conn;
  return res;
}

// POST /v1/messages with the standard API headers plus `headers`.
export function postMessages(port, { body = messagesBody(), headers = {}, path = '/v1/messages' } = {}, opt) {
  return request(port, { method: 'POST', path, headers: { ...API_HEADERS, ...headers }, body }, opt);
}

// Asserts the Anthropic error shape: status, error.type, header and body request ids.
export function assertAnthropicError(res, status, type, { sluiceGenerated = true } = {}) {
  assert.equal(res.status, status, `status; body: ${res.text}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/);
  const body = res.json();
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, type);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.match(res.headers['x-sluice-request-id'] || '', /^req_\w+/);
  if (sluiceGenerated) {
    assert.equal(res.headers['request-id'], res.headers['x-sluice-request-id']);
    assert.equal(body.request_id, res.headers['x-sluice-request-id']);
  } else {
    assert.equal(body.request_id, res.headers['request-id']);
  }
  return body;
}

// The requests `sluice mock` recorded.
export async function mockRequests(mock) {
  const r = await fetch(`${mock.url}/_mock/requests`);
  return r.json();
}
export async function clearMock(mock) {
  await fetch(`${mock.url}/_mock/requests`, { method: 'DELETE' });
}
// The single recorded request whose request_id is `upstreamId` (the response's request-id).
export async function recordedRequest(mock, upstreamId) {
  const all = await mockRequests(mock);
  const found = all.filter((r) => r.request_id === upstreamId);
  assert.equal(found.length, 1, `mock recorded request ${upstreamId} once (recorded: ${all.map((r) => r.request_id)})`);
  return found[0];
}

// Sends a request straight to the mock (to compare with what comes through the gateway).
export function direct(mock, opts, o) { return request(mock.port, opts, o); }

// A plain HTTP/1.1 upstream written in the test: `onRequest(sock, req)` answers with raw
// bytes; req = { method, target, headers (lower-cased), rawHead, body: Buffer }. Supports
// keep-alive (several requests per connection) with Content-Length bodies; req.connId numbers
// the connection a request came on.
export async function startRawUpstream(onRequest) {
  const requests = [];
  const sockets = new Set();
  let connections = 0;
  const srv = net.createServer((sock) => {
    const connId = ++connections;
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const he = buf.indexOf('\r\n\r\n');
        if (he < 0) return;
        const rawHead = buf.subarray(0, he + 4).toString('latin1');
        const lines = rawHead.slice(0, -4).split('\r\n');
        const [method, target] = lines[0].split(' ');
        const headers = {};
        for (const l of lines.slice(1)) {
          const c = l.indexOf(':');
          const k = l.slice(0, c).trim().toLowerCase();
          const v = l.slice(c + 1).trim();
          headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
        }
        const len = Number(headers['content-length'] || 0);
        if (buf.length < he + 4 + len) return;
        const body = Buffer.from(buf.subarray(he + 4, he + 4 + len));
        buf = buf.subarray(he + 4 + len);
        const req = { method, target, headers, rawHead, body, connId };
        requests.push(req);
        onRequest(sock, req);
      }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: srv.address().port,
    url: `http://127.0.0.1:${srv.address().port}`,
    requests,
    get connections() { return connections; },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

// Writes `pieces` one by one with a pause between them, so that each is its own TCP segment.
export async function writeSlowly(sock, pieces, gapMs = 15) {
  for (const p of pieces) {
    if (sock.destroyed) return;
    sock.write(p);
    await sleep(gapMs);
  }
}

// Resolves with the promise's value, or null after `ms` (without leaving a timer behind).
export function within(promise, ms) {
  let t;
  return Promise.race([promise, new Promise((r) => { t = setTimeout(() => r(null), ms); })]).finally(() => clearTimeout(t));
}

// Polls `fn` until it returns a truthy value or `ms` passes; returns the last value.
export async function waitFor(fn, ms = 5000, stepMs = 50) {
  const deadline = now() + ms;
  let v;
  for (;;) {
    v = await fn();
    if (v || now() >= deadline) return v;
    await sleep(stepMs);
  }
}


// ---- Resilience (tests/integration/resilience_*.test.mjs and soak/) ----

// A small YAML emitter for configs: nested objects and arrays of scalars or objects; strings
// are written as JSON strings (valid YAML), numbers and booleans as is.
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  const scalar = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  const isObj = (v) => v !== null && typeof v === 'object';
  const lines = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      lines.push(`${pad}${k}:`);
      for (const item of v) {
        if (isObj(item)) {
          const inner = toYaml(item, indent + 4).split('\n').filter(Boolean);
          lines.push(`${pad}  - ${inner[0].trimStart()}`, ...inner.slice(1));
        } else {
          lines.push(`${pad}  - ${scalar(item)}`);
        }
      }
    } else if (isObj(v)) {
      lines.push(`${pad}${k}:`, ...toYaml(v, indent + 2).split('\n').filter(Boolean));
    } else {
      lines.push(`${pad}${k}: ${scalar(v)}`);
    }
  }
  return lines.join('\n') + '\n';
}

// YAML for a gateway with the resilience settings under test. `providers` is a list of
// { name, base_url, api_key?, retry?, breaker?, timeouts?, deployments?, fallbacks?, pool? }
// (keys as in the config file). Unlike gatewayConfig(), nothing is turned off: retries and
// breakers keep their defaults unless a provider says otherwise.
export function resilienceConfig({ providers, server = {}, streams }) {
  return toYaml({
    server: { threads: 2, ...server },
    providers: providers.map((p) => ({ kind: 'anthropic', ...p })),
    ...(streams ? { streams } : {}),
  });
}

// `sluice serve` with resilienceConfig(cfg).
export function startResilientGateway(cfg, { env } = {}) {
  return startGateway({ config: resilienceConfig(cfg), env });
}

// A whole HTTP/1.1 response with a Content-Length body (a JSON error body by default).
export function httpResponse(status, { reason = 'Whatever', headers = {}, body } = {}) {
  const text = body !== undefined ? body : JSON.stringify({
    type: 'error', error: { type: status === 529 ? 'overloaded_error' : 'api_error', message: `raw upstream ${status}` },
  });
  const pairs = Object.entries({ 'content-type': 'application/json', ...headers });
  return `HTTP/1.1 ${status} ${reason}\r\n` + pairs.map(([k, v]) => `${k}: ${v}\r\n`).join('') +
    `content-length: ${Buffer.byteLength(text)}\r\n\r\n` + text;
}

// One SSE event in Anthropic's framing.
export function sseEvent(type, data) {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

// A complete Anthropic stream saying `text` (one delta per word), as a list of events.
export function anthropicStreamEvents(text = 'Hello from a raw upstream') {
  const words = text.split(/(?= )/);
  return [
    sseEvent('message_start', { message: { id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-raw', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
    sseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    sseEvent('ping', {}),
    ...words.map((w) => sseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } })),
    sseEvent('content_block_stop', { index: 0 }),
    sseEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: words.length } }),
    sseEvent('message_stop', {}),
  ];
}

// The head of a chunked SSE response, and one chunk.
export const SSE_RESPONSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n';
export function chunk(text) {
  const b = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
}

// The requests `sluice mock` recorded whose header `name` equals `value` (a per-test marker).
export async function mockRequestsWith(mock, name, value) {
  return (await mockRequests(mock)).filter((r) => r.headers[name] === value);
}

// GET /healthz as JSON, and the breaker state of one deployment label ("<provider>#<i>").
export async function healthz(gw) {
  const res = await fetch(`${gw.url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}
export async function breakerState(gw, label) {
  const h = await healthz(gw);
  for (const p of h.providers) for (const d of p.deployments) if (d.deployment === label) return d.breaker;
  return undefined;
}

// The JSON lines the gateway wrote to stderr with "event": "breaker".
export function breakerEvents(gw) {
  return gw.stderr().split('\n').filter((l) => l.includes('"event":"breaker"')).map((l) => JSON.parse(l));
}

// The access-log line of a response (by its x-sluice-request-id), waiting for it to be written.
export function accessLine(gw, res, ms = 3000) {
  const id = res.headers['x-sluice-request-id'];
  return waitFor(() => gw.accessLog().find((l) => l.request_id === id), ms, 20);
}

// An upstream written here whose every answer is scripted by the request: header `x-script`
// holds JSON { status, reason, headers, failTimes, hang, retryAfterDateIn } and `x-test-id`
// names the test (its counter and its log entries). The first `failTimes` requests of a test
// (all of them when absent) get `status` with `headers` and a JSON error body; later ones (or
// any request without `status`) a normal answer: a JSON message, or a complete SSE stream when
// the body says "stream": true. `hang` answers nothing (the socket stays open). When
// `retryAfterDateIn` (ms) is set, `retry-after` is an HTTP date that far in the future.
// `log` holds { id, t, connId, closedAt } per request (closedAt: when its socket closed).
export async function startScriptedUpstream() {
  const log = [];
  const seen = new Map();
  const up = await startRawUpstream((sock, req) => {
    if (!sock.sluiceWatched) {
      sock.sluiceWatched = true;
      sock.on('close', () => {
        const t = now();
        for (const e of log) if (e.connId === req.connId && e.closedAt === undefined) e.closedAt = t;
      });
    }
    const id = req.headers['x-test-id'] || '';
    const script = req.headers['x-script'] ? JSON.parse(req.headers['x-script']) : {};
    const n = (seen.get(id) || 0) + 1;
    seen.set(id, n);
    log.push({ id, t: now(), connId: req.connId, closedAt: undefined, n });
    if (script.hang) return;
    const failing = script.status && (script.failTimes === undefined || n <= script.failTimes);
    if (failing) {
      const headers = { ...(script.headers || {}) };
      if (script.retryAfterDateIn !== undefined) headers['retry-after'] = new Date(Date.now() + script.retryAfterDateIn).toUTCString();
      sock.write(httpResponse(script.status, { reason: script.reason || 'Scripted', headers }));
      return;
    }
    let stream = false;
    try { stream = JSON.parse(req.body.toString()).stream === true; } catch {}
    if (stream) {
      sock.write(SSE_RESPONSE_HEAD + anthropicStreamEvents().map((e) => chunk(e).toString('latin1')).join('') + '0\r\n\r\n');
    } else {
      const body = JSON.stringify({ id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-raw', content: [{ type: 'text', text: 'Hello from a raw upstream' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 5 } });
      sock.write(httpResponse(200, { reason: 'OK', body }));
    }
  });
  up.log = log;
  up.entries = (id) => log.filter((e) => e.id === id);
  up.count = (id) => log.filter((e) => e.id === id).length;
  return up;
}

// The TCP sockets of process `pid` whose remote port is `port` (e.g. a gateway's connections to
// its upstream), by state, from /proc/<pid>/fd and /proc/net/tcp{,6}. Linux only.
const TCP_STATES = { '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING' };
export function tcpSocketsTo(pid, port) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const byState = {};
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]) || parseInt(f[2].split(':')[1], 16) !== port) continue;
      const st = TCP_STATES[f[3]] || f[3];
      byState[st] = (byState[st] || 0) + 1;
      total++;
    }
  }
  return { total, byState };
}

// A listening socket whose accept queue is full, so that a connect to it hangs (the kernel drops
// the SYN): Python's listen(0) without accept(), filled by connections of its own (Node cannot
// listen without accepting). Resolves to { port, stop() }, or null when python3 is missing.
export async function startBlackHole() {
  if (spawnSync('python3', ['-c', 'print(1)']).status !== 0) return null;
  const script = [
    'import socket, sys',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'port = s.getsockname()[1]; fill = []',
    'for i in range(3):',
    '    c = socket.socket(); c.setblocking(False)',
    '    try: c.connect(("127.0.0.1", port))',
    '    except BlockingIOError: pass',
    '    fill.append(c)',
    'print(port, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const proc = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => {
    let out = '';
    const t = setTimeout(() => resolve(null), 5000);
    proc.stdout.on('data', (d) => { out += d; if (out.includes('\n')) { clearTimeout(t); resolve(Number(out.trim())); } });
    proc.on('exit', () => { clearTimeout(t); resolve(null); });
  });
  const stop = () => { try { proc.stdin.end(); process.kill(proc.pid); } catch { /* gone */ } };
  if (!port) { stop(); return null; }
  await sleep(200); // the filling connections settle into the queue
  return { port, stop };
}

// A stream as the upstream sent it: sluice's `id: <stream-id>:<seq>` lines (resumable streams,
// docs/resume.md) taken out, after checking they name one stream and count up from 1.
export function stripEventIds(text, { first = 1 } = {}) {
  let expect = first;
  let stream = null;
  return text.replace(/^id: (st_[A-Za-z0-9]+):(\d+)\n/gm, (_, s, n) => {
    stream = stream ?? s;
    assert.equal(s, stream, 'every id names the same stream');
    assert.equal(Number(n), expect, 'ids count up by one');
    expect += 1;
    return '';
  });
}

// The client's view of a stream, checked for shape: one message_start, blocks opened and closed
// in order with consecutive indexes, and their text.
export function accumulate(events) {
  const starts = events.filter((e) => e.event === 'message_start');
  assert.equal(starts.length, 1, 'one message_start');
  const blocks = [];
  let open = -1;
  let usage = JSON.parse(starts[0].data).message.usage;
  for (const e of events) {
    if (e.event === 'ping' || e.event === 'message_start') continue;
    const d = JSON.parse(e.data);
    if (e.event === 'content_block_start') {
      assert.equal(open, -1, 'no block is open when one starts');
      assert.equal(d.index, blocks.length, 'indexes count up from 0');
      blocks.push({ ...d.content_block, text: d.content_block.text ?? '' });
      open = d.index;
    } else if (e.event === 'content_block_delta') {
      assert.equal(d.index, open, 'a delta goes to the open block');
      if (d.delta.type === 'text_delta') blocks[open].text += d.delta.text;
    } else if (e.event === 'content_block_stop') {
      assert.equal(d.index, open);
      open = -1;
    } else if (e.event === 'message_delta') {
      usage = { ...usage, ...d.usage };
    }
  }
  return { blocks, usage, text: blocks.filter((b) => b.type === 'text').map((b) => b.text).join('') };
}

// Opens a stream and drops the connection right after `k` complete events. Returns the head and
// the events the client got.
export async function openAndDrop(port, opts, k) {
  const conn = await Conn.open(port);
  await conn.send(opts);
  const got = [];
  const res = await conn.readResponse({
    timeoutMs: 15000,
    onEvent: (ev) => {
      if (got.length < k) got.push(ev);
      if (got.length === k) conn.sock.destroy();
    },
  });
  return { head: res, events: got };
}
