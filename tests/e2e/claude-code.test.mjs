// End to end: the real Claude Code CLI (`@anthropic-ai/claude-code`, version pinned in
// package-lock.json; a native binary at node_modules/.bin/claude) runs `claude -p`
// non-interactively with ANTHROPIC_BASE_URL = sluice, which relays to a `sluice mock` process.
// Offline: a fresh HOME per run, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1, stdin closed, and
// a hard deadline after which the CLI is killed by PID.
//
// What Claude Code 2.1.328 sent, as observed (asserted below; see also
// ../shared/reference/claude-code.md, written against 2.1.332):
// - one `POST /v1/messages?beta=true` per turn (no count_tokens, no /v1/models, no HEAD probe);
// - `anthropic-version: 2023-06-01`, 8 betas in `anthropic-beta`, `x-app: cli`,
//   `user-agent: claude-cli/2.1.328 (external, sdk-cli)`, `x-claude-code-session-id`,
//   `anthropic-dangerous-direct-browser-access: true`, X-Stainless-* of its bundled SDK
//   (package version 0.128.0), `x-stainless-retry-count: 0` on every attempt (it retries
//   itself), `accept-encoding: gzip, deflate, br, zstd`, a plain Content-Length body (~49 KB);
// - body keys model (claude-opus-5-5), messages, system (3 text blocks, the last two with
//   cache_control), tools (12, one DeferredToolPlaceholder with defer_loading), metadata
//   (user_id: a JSON string with device_id, account_uuid, session_id), max_tokens 128000,
//   thinking {type: adaptive, display: omitted}, context_management, output_config.effort
//   "medium", stream true;
// - messages = [user (a <system-reminder> text block, then the prompt), system (the
//   environment block, with cache_control, and a message-level `output_config: {effort:
//   "medium"}`)] — the `role: "system"` message comes after the user turn. On the second turn
//   of a tool round trip the system message's content becomes a plain string (same text), the
//   assistant turn (thinking block with signature, text, tool_use) is echoed back exactly, then
//   a user tool_result with cache_control;
// - with CLAUDE_CODE_MAX_RETRIES=1 a 529 gives up after 2 attempts and prints
//   "API Error: 529 Overloaded. … check your inference gateway (host:port)" on stdout, exit 1.
//   Without it, 2.1.328 kept retrying a 529 for the whole 120 s (no "3 attempts" cut-off);
// - a stream reset once is retried transparently, the partial text discarded. Straight
//   against the mock it survived 3 and 4 consecutive resets and 3 in-band overloaded_error
//   events (success on the next attempt), but gave up after 3 attempts on a stream that ended
//   without message_stop ("API Error: Connection lost before a response was produced") and on
//   3 in-band `api_error` events. After 3 in-band overloaded_error streams its 4th attempt is
//   a non-streaming request (stream false, max_tokens 64000, x-stainless-timeout 300); after
//   resets it kept streaming.
// - stdout carries the final text only; nothing on stderr.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock, startGateway, CLAUDE_CODE_BETA_LIST } from '../support/harness.mjs';
import {
  runClaude, mockRequests, clearMockRequests, lastUserText, normalizeMessage, settledAccessLog, removeTempDirs, DIRECT_KEY, startRelayGateway, startCuttingProxy } from './helpers.mjs';

const CLIENT_KEY = 'sk-ant-e2e-claude-code-client-key-3b9d';
const PROVIDER_KEY = 'sk-ant-api03-e2e-claude-code-PROVIDER-6e1f';
const CLAUDE_VERSION = '2.1.328';
const BETAS = CLAUDE_CODE_BETA_LIST;
const DEADLINE_MS = 120000;
const TEST_TIMEOUT = DEADLINE_MS + 30000;

let mock;
const dirs = [];
const gateways = []; // per-test gateways, stopped by withGateway; their temp dirs go at the end

before(async () => {
  mock = await startMock();
});

after(async () => {
  if (mock) await mock.stop();
  removeTempDirs(mock, ...gateways);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Fresh directories with names of equal length, so that two runs' requests differ by nothing
// but content (the HOME path appears in the system prompt).
function freshDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

// Starts a gateway for one test (its own access log), clears the mock's record, runs `fn`,
// stops the gateway by PID whatever happens.
async function withGateway(opts, fn) {
  const gw = await startRelayGateway(mock.url, opts);
  gateways.push(gw);
  try {
    await clearMockRequests(mock);
    return await fn(gw);
  } finally {
    await gw.stop();
  }
}

// `claude <args>` through `baseUrl` with a fresh HOME in `cwd`.
async function claude(baseUrl, args, { env = {}, cwd = freshDir('sluice-cc-cwd-'), key = { ANTHROPIC_API_KEY: CLIENT_KEY } } = {}) {
  const home = freshDir('sluice-cc-home-');
  const r = await runClaude(args, { cwd, home, env: { ANTHROPIC_BASE_URL: baseUrl, ...key, ...env }, timeoutMs: DEADLINE_MS });
  r.home = home;
  assert.ok(!r.timedOut, `claude was killed after ${DEADLINE_MS} ms; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  return r;
}

const show = (r) => `exit ${r.code}, stdout: ${r.stdout}, stderr: ${r.stderr}`;

// The access log has exactly one line per request the mock received (matched by the upstream
// request id) and leaks neither keys nor any text of the conversation.
async function assertAccessLog(gw, recorded, secrets) {
  const log = await settledAccessLog(gw, (lines) => lines.length >= recorded.length);
  assert.equal(log.length, recorded.length, `one access-log line per request: ${JSON.stringify(log)}`);
  assert.deepEqual(log.map((l) => l.upstream_request_id).sort(), recorded.map((r) => r.request_id).sort());
  const byId = Object.fromEntries(recorded.map((r) => [r.request_id, r]));
  for (const l of log) {
    assert.equal(l.method, 'POST');
    assert.equal(l.route, '/v1/messages');
    assert.equal(l.model, 'claude-opus-5-5');
    assert.equal(l.stream, byId[l.upstream_request_id].body.stream === true);
    assert.equal(l.attempts, 1);
    assert.match(l.request_id, /^req_/);
    assert.ok(l.bytes_in > 10000, 'Claude Code sends a large body');
  }
  const text = JSON.stringify(log);
  const systemSnippet = recorded[0].body.system[1].text;
  for (const s of [...secrets, systemSnippet, 'system-reminder', recorded[0].headers['x-claude-code-session-id']]) {
    assert.ok(!text.includes(s), `access log contains ${s}`);
  }
  return log;
}

// Replays a recorded Claude Code request straight to the mock, non-streaming: what the mock
// "said" to that request, ids aside.
async function mockReplyTo(recorded) {
  const res = await fetch(`${mock.url}${recorded.target}`, {
    method: 'POST',
    headers: { 'x-api-key': DIRECT_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': recorded.headers['anthropic-beta'], 'content-type': 'application/json' },
    body: JSON.stringify({ ...recorded.body, stream: false }),
    signal: AbortSignal.timeout(15000),
  });
  assert.equal(res.status, 200);
  return res.json();
}

const onlyClaude = (r) => r.headers['user-agent']?.startsWith('claude-cli/');

describe('claude -p through the gateway', () => {
  test('"say hello": prints the mock reply, exit 0; one request with Claude Code\'s headers and body', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const r = await claude(gw.url, ['-p', 'say hello']);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello');
      assert.equal(r.stderr, '');

      const recorded = await mockRequests(mock);
      assert.equal(recorded.length, 1, 'one prompt without tools = one request');
      const [rec] = recorded;
      assert.equal(rec.method, 'POST');
      assert.equal(rec.target, '/v1/messages?beta=true');
      const h = rec.headers;
      assert.equal(h['anthropic-version'], '2023-06-01');
      assert.deepEqual(h['anthropic-beta'].split(','), BETAS);
      assert.equal(h['x-api-key'], CLIENT_KEY, 'a key-less gateway forwards the client key');
      assert.equal(h.authorization, undefined);
      assert.equal(h['x-app'], 'cli');
      assert.equal(h['user-agent'], `claude-cli/${CLAUDE_VERSION} (external, sdk-cli)`);
      assert.match(h['x-claude-code-session-id'], /^[0-9a-f-]{36}$/);
      assert.equal(h['anthropic-dangerous-direct-browser-access'], 'true');
      assert.equal(h['x-stainless-lang'], 'js');
      assert.equal(h['x-stainless-package-version'], '0.128.0'); // its bundled SDK
      assert.equal(h['x-stainless-timeout'], '600');
      assert.equal(h['x-stainless-retry-count'], '0');
      assert.equal(h['content-type'], 'application/json');
      assert.equal(h['transfer-encoding'], undefined);
      assert.ok(Number(h['content-length']) > 20000, `content-length ${h['content-length']}`);
      assert.equal(h['x-mock-fault'], undefined);

      const b = rec.body;
      assert.deepEqual(Object.keys(b).sort(), ['context_management', 'max_tokens', 'messages', 'metadata', 'model', 'output_config', 'stream', 'system', 'thinking', 'tools']);
      assert.equal(b.model, 'claude-opus-5-5');
      assert.equal(b.stream, true);
      assert.equal(b.max_tokens, 128000);
      assert.deepEqual(b.thinking, { type: 'adaptive', display: 'omitted' });
      assert.equal(b.output_config.effort, 'medium');
      assert.ok(Array.isArray(b.context_management.edits));
      const userId = JSON.parse(b.metadata.user_id); // a JSON string inside the JSON body
      assert.equal(userId.session_id, h['x-claude-code-session-id']);
      assert.match(userId.device_id, /^[0-9a-f]{64}$/);
      assert.equal(b.system.length, 3);
      assert.ok(b.system.every((s) => s.type === 'text'));
      assert.deepEqual(b.system.map((s) => Boolean(s.cache_control)), [false, true, true]);
      assert.equal(b.tools.length, 12);
      assert.ok(b.tools.some((t) => t.name === 'Bash'));
      assert.deepEqual(b.tools.filter((t) => t.defer_loading).length, 1);
      // messages: the user turn, then a role:"system" message (per-turn-control beta).
      assert.deepEqual(b.messages.map((m) => m.role), ['user', 'system']);
      const userBlocks = b.messages[0].content;
      assert.ok(userBlocks[0].text.startsWith('<system-reminder>'));
      assert.equal(userBlocks.at(-1).text, 'say hello');
      assert.match(b.messages[1].content[0].text, /^# Environment/);
      assert.deepEqual(b.messages[1].content[0].cache_control, { type: 'ephemeral' });
      // The system message carries its own output_config (a field on a message, newer than
      // any published schema).
      assert.deepEqual(b.messages[1].output_config, { effort: 'medium' });

      await assertAccessLog(gw, recorded, [CLIENT_KEY, 'say hello']);
      const [line] = await settledAccessLog(gw, (ls) => ls.length >= 1);
      assert.equal(line.status, 200);
      assert.equal(line.upstream_status, 200);
      assert.ok(!line.error);
    });
  });

  test('the request Claude Code sends arrives upstream as it sends it straight to the mock', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const cwd = freshDir('sluice-cc-cwd-');
      const direct = await claude(mock.url, ['-p', 'say hello'], { cwd });
      const viaGw = await claude(gw.url, ['-p', 'say hello'], { cwd });
      assert.equal(direct.code, 0, show(direct));
      assert.equal(viaGw.code, 0, show(viaGw));
      assert.equal(viaGw.stdout, direct.stdout);

      const [a, b] = await mockRequests(mock);
      assert.ok(a && b);
      assert.equal(b.target, a.target);
      // Headers: the same, apart from host, hop-by-hop `connection`, the per-run session id and
      // accept-encoding (sluice asks the upstream for identity; Claude Code sent
      // "gzip, deflate, br, zstd" and gets an uncompressed stream back).
      const skip = new Set(['host', 'connection', 'x-claude-code-session-id', 'accept-encoding']);
      const hdrs = (r) => Object.fromEntries(Object.entries(r.headers).filter(([k]) => !skip.has(k)));
      assert.deepEqual(hdrs(b), hdrs(a));
      assert.equal(a.headers['accept-encoding'], 'gzip, deflate, br, zstd');
      assert.equal(a.headers.connection, 'keep-alive');
      assert.equal(b.headers.connection, undefined);
      // Body: the same, apart from the HOME path in the system prompt and the per-run ids in
      // metadata.user_id (content-length equal: same-length HOME paths and ids).
      const body = (r, home) => {
        const s = JSON.stringify(r.body).split(home).join('<HOME>');
        const o = JSON.parse(s);
        const u = JSON.parse(o.metadata.user_id);
        o.metadata.user_id = Object.keys(u).sort();
        return o;
      };
      assert.deepEqual(body(b, viaGw.home), body(a, direct.home));
      await assertAccessLog(gw, [b], [CLIENT_KEY, 'say hello']);
    });
  });

  test('--output-format json reports the usage the mock reported', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const r = await claude(gw.url, ['-p', 'say hello', '--output-format', 'json']);
      assert.equal(r.code, 0, show(r));
      const out = JSON.parse(r.stdout);
      assert.equal(out.type, 'result');
      assert.equal(out.subtype, 'success');
      assert.equal(out.is_error, false);
      assert.equal(out.num_turns, 1);
      assert.equal(out.result, 'Hello from sluice mock! You said: say hello');
      assert.equal(out.stop_reason, 'end_turn');

      const recorded = await mockRequests(mock);
      assert.equal(recorded.length, 1);
      const reply = await mockReplyTo(recorded[0]);
      assert.equal(out.usage.input_tokens, reply.usage.input_tokens);
      assert.equal(out.usage.output_tokens, reply.usage.output_tokens);
      assert.equal(out.usage.cache_read_input_tokens, reply.usage.cache_read_input_tokens);
      assert.equal(out.usage.cache_creation_input_tokens, reply.usage.cache_creation_input_tokens);
      assert.ok(out.usage.input_tokens > 1000, 'Claude Code\'s prompt is large');
      assert.equal(out.modelUsage['claude-opus-5-5'].inputTokens, reply.usage.input_tokens);
      assert.equal(out.modelUsage['claude-opus-5-5'].outputTokens, reply.usage.output_tokens);
      await assertAccessLog(gw, recorded, [CLIENT_KEY, 'say hello']);
    });
  });

  test('tool round trip: "Bash echo hi" runs the command and ends with the mock\'s tool-result reply', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const r = await claude(gw.url, ['-p', 'Bash echo hi', '--allowedTools', 'Bash']);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Tool result received: hi');

      const recorded = (await mockRequests(mock)).filter(onlyClaude);
      assert.equal(recorded.length, 2, 'one tool round trip = two requests');
      const [first, second] = recorded;
      assert.equal(lastUserText(first), 'Bash echo hi');
      assert.equal(first.headers['x-claude-code-session-id'], second.headers['x-claude-code-session-id']);
      assert.equal(second.target, '/v1/messages?beta=true');

      // The second turn echoes the mock's first reply exactly (thinking block and signature
      // included), then the tool result.
      const reply1 = await mockReplyTo(first);
      assert.deepEqual(reply1.content.map((c) => c.type), ['thinking', 'text', 'tool_use']);
      assert.deepEqual(reply1.content[2].input, { command: 'echo hi' });
      const msgs = second.body.messages;
      assert.deepEqual(msgs.map((m) => m.role), ['user', 'system', 'assistant', 'user']);
      assert.deepEqual(msgs[0], first.body.messages[0]);
      // The system message is resent with the same text, but as a plain string: its
      // cache_control breakpoint moved to the tool_result (observed straight against the mock
      // too, so this is Claude Code, not the gateway).
      assert.equal(typeof first.body.messages[1].content, 'object');
      assert.equal(msgs[1].content, first.body.messages[1].content[0].text);
      assert.deepEqual(msgs[1].output_config, first.body.messages[1].output_config);
      const echoed = msgs[2].content;
      assert.deepEqual(normalizeMessage({ content: echoed }).content, normalizeMessage({ content: reply1.content }).content);
      const toolUseId = echoed[2].id;
      assert.match(toolUseId, /^toolu_/);
      const [result] = msgs[3].content;
      assert.equal(result.type, 'tool_result');
      assert.equal(result.tool_use_id, toolUseId);
      assert.equal(result.content, 'hi');
      assert.equal(result.is_error, false);
      assert.deepEqual(result.cache_control, { type: 'ephemeral' });

      const log = await assertAccessLog(gw, recorded, [CLIENT_KEY, 'Bash echo hi', 'echo hi']);
      assert.ok(log.every((l) => l.status === 200 && !l.error));
    });
  });

  test('with ANTHROPIC_API_KEY on the gateway and ANTHROPIC_AUTH_TOKEN in Claude Code, the upstream sees only the gateway key', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({ env: { ANTHROPIC_API_KEY: PROVIDER_KEY } }, async (gw) => {
      const token = 'e2e-claude-code-bearer-token-0c4';
      const r = await claude(gw.url, ['-p', 'say hello'], { key: { ANTHROPIC_AUTH_TOKEN: token } });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello');
      const recorded = await mockRequests(mock);
      assert.equal(recorded.length, 1);
      assert.equal(recorded[0].headers['x-api-key'], PROVIDER_KEY);
      assert.equal(recorded[0].headers.authorization, undefined);
      assert.ok(!JSON.stringify(recorded[0].headers).includes(token));
      await assertAccessLog(gw, recorded, [PROVIDER_KEY, token, 'say hello']);
    });
  });
});

describe('claude -p and the long-context guard', () => {
  // Claude Code's own request is ~49 KB (~15K tokens by sluice's estimate); with a 20K window
  // for its model, "say hello" fits and an 84 KB prompt does not. Its max_tokens (128000) does
  // not count: the model stops at its window rather than refusing.
  const GUARD = 'context:\n  models:\n    - model: "claude-opus-5-5"\n      window: 20000\n      max_tokens_counts: false\n';

  test('a prompt over the window: Claude Code prints the gateway\'s "prompt is too long", nothing reaches the upstream', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({ extraYaml: GUARD }, async (gw) => {
      const words = ['gateway', 'stream', 'token', 'budget', 'window', 'context', 'retry', 'ledger'];
      const prompt = Array.from({ length: 12000 }, (_, i) => words[(i * 5) % words.length]).join(' ');
      const r = await claude(gw.url, ['-p', prompt], { env: { CLAUDE_CODE_MAX_RETRIES: '1' } });
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.stdout + r.stderr, /prompt is too long/i, show(r));
      assert.ok(r.ms < 60000, `bounded: ${r.ms} ms`);
      assert.equal((await mockRequests(mock)).length, 0, 'a refused request never leaves the gateway');
      const log = await settledAccessLog(gw, (ls) => ls.length >= 1);
      assert.ok(log.length >= 1 && log.every((l) => l.status === 400 && !l.upstream_status), JSON.stringify(log));
    });
  });

  test('"say hello" under the same guard goes through untouched', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({ extraYaml: GUARD }, async (gw) => {
      const r = await claude(gw.url, ['-p', 'say hello']);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello');
      assert.equal((await mockRequests(mock)).length, 1);
    });
  });
});

describe('claude -p when the upstream fails', () => {
  test('529 every time: exits non-zero and prints the API error (CLAUDE_CODE_MAX_RETRIES=1 → 2 attempts)', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const r = await claude(gw.url, ['-p', 'say hello'], {
        env: { ANTHROPIC_CUSTOM_HEADERS: 'x-mock-fault: status-529', CLAUDE_CODE_MAX_RETRIES: '1' },
      });
      assert.notEqual(r.code, 0, show(r));
      assert.equal(r.code, 1);
      assert.match(r.stdout, /API Error: 529/);
      assert.match(r.stdout, /Overloaded/);
      assert.ok(r.stdout.includes(`127.0.0.1:${gw.port}`), 'it names the gateway');
      assert.ok(!r.stdout.includes('Hello from sluice mock'));
      assert.ok(r.ms < 60000, `bounded: ${r.ms} ms`);

      const recorded = await mockRequests(mock);
      assert.equal(recorded.length, 2, 'the first attempt and one retry');
      assert.ok(recorded.every((q) => q.headers['x-mock-fault'] === 'status-529'), 'custom headers pass through');
      const log = await assertAccessLog(gw, recorded, [CLIENT_KEY, 'say hello']);
      assert.ok(log.every((l) => l.status === 529 && l.upstream_status === 529));
    });
  });

  test('a stream reset once: Claude Code retries through the gateway and prints the whole reply', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const key = `e2e-cc-reset-${process.pid}-${Date.now()}`;
      const r = await claude(gw.url, ['-p', 'say hello'], {
        env: { ANTHROPIC_CUSTOM_HEADERS: `x-mock-fault: reset-after-5\nx-mock-fail-times: 1\nx-mock-fault-key: ${key}` },
      });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello', 'the partial text is discarded');
      const recorded = await mockRequests(mock);
      assert.equal(recorded.length, 2);
      const log = await assertAccessLog(gw, recorded, [CLIENT_KEY, 'say hello']);
      const byUpstream = Object.fromEntries(log.map((l) => [l.upstream_request_id, l]));
      assert.ok(byUpstream[recorded[0].request_id].error, 'the broken stream is marked in the access log');
      assert.ok(!byUpstream[recorded[1].request_id].error);
    });
  });

  test('an in-band overloaded_error three times is relayed; Claude Code falls back to a non-streaming request, which succeeds', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const key = `e2e-cc-inband-${process.pid}-${Date.now()}`;
      const r = await claude(gw.url, ['-p', 'say hello'], {
        env: { ANTHROPIC_CUSTOM_HEADERS: `x-mock-fault: error-after-5\nx-mock-fail-times: 3\nx-mock-fault-key: ${key}` },
      });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello');
      const recorded = await mockRequests(mock);
      // Three streamed attempts, then (observed, same straight against the mock) one
      // non-streaming request with max_tokens 64000 and a 300 s client timeout.
      assert.equal(recorded.length, 4);
      assert.deepEqual(recorded.map((q) => q.body.stream), [true, true, true, false]);
      assert.deepEqual(recorded.map((q) => q.body.max_tokens), [128000, 128000, 128000, 64000]);
      assert.deepEqual(recorded.map((q) => q.headers['x-stainless-timeout']), ['600', '600', '600', '300']);
      assert.equal(recorded[3].target, '/v1/messages?beta=true');
      const log = await assertAccessLog(gw, recorded, [CLIENT_KEY, 'say hello']);
      assert.ok(log.every((l) => l.status === 200));
    });
  });

  // Claude Code 2.1.328 retries a stream that the connection drops (TCP reset) more often than
  // one that ends with an in-band `api_error` event (observed straight against the mock: 3
  // resets → success on the 4th attempt; 3 `event: error` api_error → "API Error: …" after 3
  // attempts). Without recovery sluice turns an upstream reset into an in-band error and Claude
  // Code gives up after 3 attempts where it succeeds directly. With stream recovery on (issue 6)
  // sluice continues each broken stream itself: Claude Code sees one clean stream.
  test('three upstream stream resets: with recovery on, Claude Code gets one clean stream', { timeout: TEST_TIMEOUT }, async () => {
    const faults = (key) => ({ ANTHROPIC_CUSTOM_HEADERS: `x-mock-fault: reset-after-5\nx-mock-fail-times: 3\nx-mock-fault-key: ${key}` });
    // Control: straight to the mock, Claude Code survives three resets by asking again.
    await clearMockRequests(mock);
    const direct = await claude(mock.url, ['-p', 'say hello'], { env: faults(`e2e-cc-reset3-direct-${process.pid}-${Date.now()}`) });
    assert.equal(direct.code, 0, `control run straight to the mock: ${show(direct)}`);
    assert.equal(direct.stdout.trim(), 'Hello from sluice mock! You said: say hello');
    assert.equal((await mockRequests(mock)).length, 4);

    const extraYaml = 'streams:\n  recovery: true\n  recovery_attempts: 3\n  prefill_models: ["claude-*"]\n';
    await withGateway({ extraYaml }, async (gw) => {
      const r = await claude(gw.url, ['-p', 'say hello'], { env: faults(`e2e-cc-reset3-gw-${process.pid}-${Date.now()}`) });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello');
      const recorded = await mockRequests(mock);
      // One request from Claude Code; the gateway asked three more times for the rest.
      assert.equal(recorded.length, 4);
      // The first break came right after the thinking block (no text yet); later ones in the text.
      assert.ok(recorded.slice(1).every((q) => q.body.thinking === undefined), 'the continuations do not think again');
      assert.equal(recorded.at(-1).body.messages.at(-1).role, 'assistant', 'the last one carries the text so far');
      assert.ok('Hello from sluice mock! You said: say hello'.startsWith(recorded.at(-1).body.messages.at(-1).content));
      const log = await settledAccessLog(gw, (lines) => lines.length >= 1);
      assert.equal(log.length, 1, JSON.stringify(log));
      assert.equal(log[0].recoveries, 3);
      assert.equal(log[0].status, 200);
    });
  });

  // Claude Code never resumes with Last-Event-ID: when its stream drops before any content it
  // sends the same request again. A proxy between it and sluice cuts the first response right
  // after its head; sluice keeps the upstream stream going into its buffer and answers the retry
  // from there. (Observed with 2.1.328: a stream cut after some text is not retried as is but
  // followed by a new turn, "Your response above was cut off mid-stream. Resume directly from
  // where it stops", which is another request and goes upstream.)
  test('a client-side drop: Claude Code\'s retry is answered from the replay buffer, one upstream request', { timeout: TEST_TIMEOUT }, async () => {
    await withGateway({}, async (gw) => {
      const cutter = await startCuttingProxy(gw.port, { cutAt: (text) => (text.includes('\r\n\r\n') ? text.indexOf('\r\n\r\n') + 4 : -1) });
      try {
        // Paced, so the stream is still running when the cut comes: a drop after the last bytes
        // went into the socket buffers looks like a delivered stream to any server.
        const r = await claude(`http://127.0.0.1:${cutter.port}`, ['-p', 'say hello'], {
          env: { ANTHROPIC_CUSTOM_HEADERS: 'x-mock-tokens-per-second: 20' },
        });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout.trim(), 'Hello from sluice mock! You said: say hello');
        assert.equal(cutter.cuts, 1, 'the first response was cut');
        const recorded = (await mockRequests(mock)).filter(onlyClaude);
        assert.equal(recorded.length, 1, `the retry never reached the upstream: ${JSON.stringify(gw.accessLog())}`);
        const log = await settledAccessLog(gw, (lines) => lines.length >= 2);
        assert.equal(log.length, 2, JSON.stringify(log));
        assert.equal(log[1].replayed, 'transparent');
        assert.equal(log[0].stream_id, log[1].stream_id);
      } finally {
        await cutter.close();
      }
    });
  });
});
