// Helpers shared by the end-to-end tests (not a test file itself: `node --test` only runs
// *.test.mjs). The e2e tests drive sluice with the real clients installed in
// tests/e2e/node_modules (versions pinned by package-lock.json). Every wait is bounded and
// every process is stopped by its PID.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { parseSse, startGateway } from '../support/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const claudeBin = process.env.CLAUDE_BIN || join(here, 'node_modules', '.bin', 'claude');

export const ANTHROPIC_VERSION = '2023-06-01';

// A JSON round trip: drops `undefined` members and non-enumerable helper properties, so that
// an SDK object compares with the JSON the server sent.
export const plain = (v) => JSON.parse(JSON.stringify(v));

// Replaces the random ids of a Message (msg_…, toolu_…) so that two replies to the same
// request compare equal.
export function normalizeMessage(message) {
  const m = plain(message);
  // The SDK's stream helpers add `parsed_output: null` (its structured-output hook) to the
  // message they accumulate; it is not part of the wire message.
  if (m.parsed_output === null) delete m.parsed_output;
  if (m.id) m.id = 'msg_ID';
  for (const block of m.content || []) {
    if (block.type === 'tool_use' || block.type === 'server_tool_use') block.id = 'toolu_ID';
  }
  return m;
}

// The same for one stream event (message_start carries the message id, content_block_start
// the tool_use id).
export function normalizeEvent(event) {
  const e = plain(event);
  if (e.type === 'message_start') e.message = normalizeMessage(e.message);
  if (e.type === 'content_block_start' && e.content_block && (e.content_block.type === 'tool_use' || e.content_block.type === 'server_tool_use')) {
    e.content_block.id = 'toolu_ID';
  }
  return e;
}

// The key of the requests the tests send straight to the mock (to tell them apart from relayed
// ones in /_mock/requests).
export const DIRECT_KEY = 'sk-ant-e2e-direct';

function apiHeaders(extra = {}) {
  return { 'x-api-key': DIRECT_KEY, 'anthropic-version': ANTHROPIC_VERSION, 'content-type': 'application/json', ...extra };
}

async function fetchJson(url, init, timeoutMs = 15000) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// POST /v1/messages straight to the mock (no gateway): what "the mock returns" for a request.
export async function mockMessage(mock, params, { headers = {}, query = '' } = {}) {
  const r = await fetchJson(`${mock.url}/v1/messages${query}`, {
    method: 'POST', headers: apiHeaders(headers), body: JSON.stringify({ ...params, stream: false }),
  });
  assert.equal(r.status, 200, `mock answered ${r.status}: ${r.text}`);
  return r.json;
}

// The same request streamed straight from the mock: its SSE events, parsed. Each event's
// `event:` name must equal its JSON `type`.
export async function mockStreamEvents(mock, params, { headers = {}, query = '' } = {}) {
  const r = await fetchJson(`${mock.url}/v1/messages${query}`, {
    method: 'POST', headers: apiHeaders(headers), body: JSON.stringify({ ...params, stream: true }),
  });
  assert.equal(r.status, 200, `mock answered ${r.status}: ${r.text}`);
  return parseSse(r.text).map((ev) => {
    const data = JSON.parse(ev.data);
    assert.equal(ev.event, data.type, 'the mock names every event after its type');
    return data;
  });
}

export async function mockCountTokens(mock, params) {
  const r = await fetchJson(`${mock.url}/v1/messages/count_tokens`, {
    method: 'POST', headers: apiHeaders(), body: JSON.stringify(params),
  });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

export async function mockModels(mock, query = '') {
  const r = await fetchJson(`${mock.url}/v1/models${query}`, { headers: { 'x-api-key': DIRECT_KEY, 'anthropic-version': ANTHROPIC_VERSION } });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// What the mock received (oldest first), optionally only the requests matching `pred`.
export async function mockRequests(mock, pred = () => true) {
  const r = await fetchJson(`${mock.url}/_mock/requests`, {});
  assert.equal(r.status, 200, r.text);
  return r.json.filter(pred);
}

export async function clearMockRequests(mock) {
  const r = await fetchJson(`${mock.url}/_mock/requests`, { method: 'DELETE' });
  assert.equal(r.status, 200, r.text);
}

// The text of the last user turn of a recorded request (a string or the last text block).
export function lastUserText(recorded) {
  const msgs = recorded?.body?.messages || [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i].role !== 'user') continue;
    const c = msgs[i].content;
    if (typeof c === 'string') return c;
    const texts = c.filter((b) => b.type === 'text').map((b) => b.text);
    return texts.at(-1);
  }
  return undefined;
}

// Checks the Anthropic stream grammar on a list of parsed events (pings already removed or
// not): message_start first, blocks opened in order 0,1,2… and closed before the next opens,
// deltas only into the open block and of the block's kind, one message_delta after the last
// block, message_stop last. Returns the block types in order.
export function assertWellFormedStream(events) {
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'message_start', `first event: ${types.join(' ')}`);
  assert.equal(types.at(-1), 'message_stop', `last event: ${types.join(' ')}`);
  assert.equal(types.filter((t) => t === 'message_start').length, 1);
  assert.equal(types.filter((t) => t === 'message_stop').length, 1);
  assert.equal(types.filter((t) => t === 'message_delta').length, 1);
  const deltaKind = { text: ['text_delta', 'citations_delta'], tool_use: ['input_json_delta'], thinking: ['thinking_delta', 'signature_delta'] };
  const blocks = [];
  let open = null;
  let sawDelta = false;
  for (const e of events.slice(1, -1)) {
    switch (e.type) {
      case 'ping':
        break;
      case 'content_block_start':
        assert.equal(open, null, 'a block starts while another is open');
        assert.ok(!sawDelta, 'a block starts after message_delta');
        assert.equal(e.index, blocks.length, 'blocks open in order 0,1,2…');
        open = e.index;
        blocks.push(e.content_block.type);
        break;
      case 'content_block_delta':
        assert.equal(e.index, open, 'a delta goes to the open block');
        if (deltaKind[blocks[open]]) assert.ok(deltaKind[blocks[open]].includes(e.delta.type), `${e.delta.type} in a ${blocks[open]} block`);
        break;
      case 'content_block_stop':
        assert.equal(e.index, open, 'the open block stops');
        open = null;
        break;
      case 'message_delta':
        assert.equal(open, null, 'message_delta while a block is open');
        assert.ok(e.delta && 'stop_reason' in e.delta, 'message_delta carries stop_reason');
        assert.equal(typeof e.usage?.output_tokens, 'number', 'message_delta carries usage.output_tokens');
        sawDelta = true;
        break;
      default:
        assert.fail(`unexpected event ${e.type}`);
    }
  }
  assert.equal(open, null, 'every block was closed');
  return blocks;
}

// Runs the Claude Code CLI non-interactively: a fresh HOME (unless given), stdin closed, and a
// hard deadline after which the process group is killed by PID. Resolves with
// { code, signal, stdout, stderr, timedOut, ms }.
export function runClaude(args, { env = {}, cwd, home, timeoutMs = 120000 } = {}) {
  return new Promise((resolveP, rejectP) => {
    const started = Date.now();
    const child = spawn(claudeBin, args, {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        TMPDIR: process.env.TMPDIR || '/tmp',
        SHELL: process.env.SHELL || '/bin/bash',
        LANG: 'C.UTF-8',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the deadline also ends the shells it starts
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const kill = () => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { try { process.kill(child.pid, 'SIGKILL'); } catch {} }
    };
    const timer = setTimeout(() => { timedOut = true; kill(); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); rejectP(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveP({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

// The gateway writes its access log from a background thread, so a line can land a moment
// after the response. Polls until `ready(lines)` holds (or `timeoutMs` passes) and returns the
// lines either way; the caller asserts on them.
export async function settledAccessLog(gw, ready = () => true, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = gw.accessLog();
    if (ready(lines) || Date.now() >= deadline) return lines;
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Removes the temporary directories of stopped `startMock`/`startGateway` processes (port
// file, config, access log).
export function removeTempDirs(...procs) {
  for (const p of procs.filter(Boolean)) {
    for (const d of [p.dir, p.accessLogPath && dirname(p.accessLogPath)]) {
      if (d) rmSync(d, { recursive: true, force: true });
    }
  }
}

// A gateway in front of `upstreamUrl` that relays only: retries off and breakers that never
// open, so what a client sees is what the upstream sent (the SDKs' and Claude Code's own retry
// behaviour is what these tests look at). resilience.test.mjs tests sluice's retries.
export function startRelayGateway(upstreamUrl, { env = {}, args = [], extraYaml = '' } = {}) {
  const config = [
    'providers:',
    '  - name: upstream',
    '    kind: anthropic',
    `    base_url: "${upstreamUrl}"`,
    '    retry:',
    '      max_attempts: 1',
    '    breaker:',
    '      consecutive_failures: 1000000',
    '      min_requests: 1000000',
  ].join('\n') + '\n' + extraYaml;
  return startGateway({ config, env, args });
}

// A TCP proxy to the gateway that cuts the first response at the offset `cutAt(text so far)`
// returns (-1: not yet) — both sockets destroyed, as a flaky network would — then relays
// faithfully. By default the cut comes just before the first text delta.
export async function startCuttingProxy(targetPort, { cutAt = (s) => s.indexOf('text_delta') } = {}) {
  const sockets = new Set();
  const proxy = { cuts: 0 };
  const server = net.createServer((client) => {
    const up = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(up);
    client.on('error', () => {});
    up.on('error', () => {});
    client.pipe(up);
    let seen = '';
    up.on('data', (d) => {
      if (proxy.cuts === 0) {
        seen += d.toString('latin1');
        const at = cutAt(seen);
        if (at >= 0) {
          proxy.cuts += 1;
          client.end(d.subarray(0, Math.max(0, d.length - (seen.length - at))));
          client.destroy();
          up.destroy();
          return;
        }
      }
      client.write(d);
    });
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = server.address().port;
  proxy.close = () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r); });
  return proxy;
}
