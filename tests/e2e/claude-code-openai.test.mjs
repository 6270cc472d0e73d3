// End to end, the Claude Code path of issue 7: the real Claude Code CLI talks Anthropic to
// sluice, which routes every model to an OpenAI-compatible provider (the mock's
// /v1/chat/completions) and translates both ways. The mock answers "Bash echo hi" with a tool
// call; Claude Code runs it and sends the result back; the mock's final text is printed. The
// ledger's usage is checked against what the mock itself reports for each request it received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock } from '../support/harness.mjs';
import { runClaude, mockRequests } from './helpers.mjs';
import { startUsageGateway } from '../integration/usage_helpers.mjs';

const OAI_KEY = 'sk-oai-provider-key-for-e2e';
const CLIENT_KEY = 'sk-ant-e2e-client-key-openai-path';
let mock;
let gw;
const dirs = [];

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url, {
    yaml: {
      providers: [{ name: 'oai', kind: 'openai', base_url: `${mock.url}/v1`, api_key: OAI_KEY, retry: { max_attempts: 1 } }],
      routes: [{ model: '*', provider: 'oai', upstream_model: 'mock-chat', max_tokens: 8192 }],
      pricing: [{ model: 'mock-chat', input: 0.27, output: 1.1 }],
    },
  });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const fresh = (p) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

// Nano-dollars per token from $/MTok: 0.27 -> 270, 1.1 -> 1100; rounded to micro-dollars once.
const costMicros = (input, output) => Math.floor((input * 270 + output * 1100 + 500) / 1000);

test('Claude Code completes a tool round trip on an OpenAI-compatible model, with exact usage', { timeout: 150000 }, async () => {
  const r = await runClaude(['-p', 'Bash echo hi', '--allowedTools', 'Bash'], {
    cwd: fresh('sluice-cc-oai-cwd-'),
    home: fresh('sluice-cc-oai-home-'),
    env: { ANTHROPIC_BASE_URL: gw.url, ANTHROPIC_API_KEY: CLIENT_KEY },
    timeoutMs: 120000,
  });
  assert.ok(!r.timedOut, `claude timed out: ${r.stdout} ${r.stderr}`);
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
  assert.equal(r.stdout.trim(), 'Tool result received: hi');

  const recorded = await mockRequests(mock);
  assert.equal(recorded.length, 2, 'one tool round trip = two requests');
  for (const q of recorded) {
    assert.equal(q.target, '/v1/chat/completions');
    // The provider's key, as a Bearer token; nothing of Anthropic's or the client's.
    assert.equal(q.headers.authorization, `Bearer ${OAI_KEY}`);
    assert.equal(q.headers['x-api-key'], undefined);
    assert.ok(!Object.keys(q.headers).some((h) => h.startsWith('anthropic-')), JSON.stringify(q.headers));
    assert.ok(!JSON.stringify(q).includes(CLIENT_KEY));
    assert.equal(q.body.model, 'mock-chat');
    assert.equal(q.body.stream, true);
    assert.deepEqual(q.body.stream_options, { include_usage: true });
    assert.equal(q.body.max_tokens, 8192, 'Claude Code asks 128000; the route caps it');
    assert.equal(q.body.messages[0].role, 'system', 'system prompt and role:system messages fold into one');
    assert.equal(q.body.messages.filter((m) => m.role === 'system').length, 1);
    assert.ok(q.body.tools.some((t) => t.type === 'function' && t.function.name === 'Bash'));
    assert.ok(!JSON.stringify(q.body).includes('"thinking"'), 'thinking never goes to an OpenAI model');
  }
  // The second request carries the call and its result, paired by id.
  const msgs = recorded[1].body.messages;
  const call = msgs.find((m) => m.role === 'assistant' && m.tool_calls);
  assert.equal(call.tool_calls[0].function.name, 'Bash');
  assert.deepEqual(JSON.parse(call.tool_calls[0].function.arguments), { command: 'echo hi' });
  const result = msgs.find((m) => m.role === 'tool');
  assert.equal(result.tool_call_id, call.tool_calls[0].id);
  assert.equal(result.content, 'hi');

  // Exact usage: what the mock reports for the same two requests, asked straight.
  let input = 0;
  let output = 0;
  for (const q of recorded) {
    const body = { ...q.body, stream: false };
    delete body.stream_options;
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const u = (await res.json()).usage;
    input += u.prompt_tokens - (u.prompt_tokens_details?.cached_tokens || 0);
    output += u.completion_tokens;
  }
  const today = new Date().toISOString().slice(0, 10);
  let rows = [];
  for (let i = 0; i < 50 && rows.length === 0; ++i) {  // the ledger commits within 50 ms
    const report = gw.cli('usage', '--by', 'day', '--since', today);
    assert.equal(report.code, 0, report.stderr);
    rows = report.json().data.filter((x) => x.requests >= 2);
    if (rows.length === 0) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(rows.length, 1, 'one day of usage');
  assert.equal(rows[0].requests, 2);
  assert.equal(rows[0].input_tokens, input);
  assert.equal(rows[0].output_tokens, output);
  assert.equal(rows[0].cost_micros, costMicros(input, output), 'priced as the upstream model');
});
