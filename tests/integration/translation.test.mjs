// Anthropic clients on an OpenAI-compatible provider, through the gateway (issue 7): the routing
// table (globs, upstream model names, per-project routes, 404 for models no route serves), the
// request as the upstream receives it, streamed and whole answers translated back, the
// upstream's errors in the Anthropic dialect, broken streams that never look finished, and
// count_tokens answered locally. The provider is `sluice mock`'s /v1/chat/completions.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, parseSse } from '../support/harness.mjs';
import { postMessages, assertAnthropicError, recordedRequest, request, API_HEADERS } from './helpers.mjs';
import { startUsageGateway, createKey } from './usage_helpers.mjs';

const OAI_KEY = 'sk-oai-integration-provider';
let mock;
let gw;
let cc;     // a key of project "cc", whose Sonnet requests go to the OpenAI provider
let other;  // a key of project "other", whose Sonnet requests go to Anthropic (the mock)

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url, {
    yaml: {
      providers: [
        { name: 'claude', kind: 'anthropic', base_url: mock.url, api_key: 'sk-ant-provider', retry: { max_attempts: 1 } },
        { name: 'oai', kind: 'openai', base_url: `${mock.url}/v1`, api_key: OAI_KEY, retry: { max_attempts: 1 } },
      ],
      routes: [
        { model: 'claude-sonnet-*', provider: 'oai', upstream_model: 'deepseek-chat', max_tokens: 8192, projects: ['cc'] },
        { model: 'deepseek-*', provider: 'oai' },
        { model: 'claude-*', provider: 'claude' },
      ],
    },
  });
  cc = (await createKey(gw, 'cc')).key;
  other = (await createKey(gw, 'other')).key;
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

const body = (extra = {}) => JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64000, messages: [{ role: 'user', content: 'say hello' }], ...extra });
const as = (key) => ({ 'x-api-key': key });
const events = (res) => parseSse(res.text);

describe('routing', () => {
  test('a project-scoped route sends Sonnet to the OpenAI provider under its name, capped', async () => {
    const res = await postMessages(gw.port, { body: body(), headers: as(cc) });
    assert.equal(res.status, 200, res.text);
    const msg = res.json();
    assert.equal(msg.type, 'message');
    assert.equal(msg.model, 'claude-sonnet-4-5', 'the client sees the model it asked for');
    assert.equal(msg.content[0].text, 'Hello from sluice mock! You said: say hello');
    assert.equal(msg.stop_reason, 'end_turn');
    const up = await recordedRequest(mock, res.headers['x-request-id']);  // the upstream's id, passed on
    assert.equal(up.target, '/v1/chat/completions');
    assert.equal(up.body.model, 'deepseek-chat');
    assert.equal(up.body.max_tokens, 8192);
    assert.equal(up.headers.authorization, `Bearer ${OAI_KEY}`);
    assert.equal(up.headers['x-api-key'], undefined);
    assert.equal(up.headers['anthropic-version'], undefined);
  });

  test('another project\'s Sonnet goes to Anthropic; a model no route serves is a 404', async () => {
    const res = await postMessages(gw.port, { body: body(), headers: as(other) });
    assert.equal(res.status, 200, res.text);
    const up = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(up.target, '/v1/messages');
    assert.equal(up.headers['x-api-key'], 'sk-ant-provider');
    const missing = await postMessages(gw.port, { body: body({ model: 'gpt-4o' }), headers: as(cc) });
    const err = assertAnthropicError(missing, 404, 'not_found_error');
    assert.match(err.error.message, /gpt-4o is not served by this gateway/);
  });
});

describe('answers', () => {
  test('a stream with a tool call becomes a well-formed Anthropic stream', async () => {
    const tools = [{ name: 'Bash', description: 'run', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }];
    const res = await postMessages(gw.port, { body: body({ stream: true, tools, messages: [{ role: 'user', content: 'Bash echo hi' }] }), headers: as(cc) });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'], /^text\/event-stream/);
    const ev = events(res);
    const names = ev.map((e) => e.event);
    assert.equal(names[0], 'message_start');
    assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
    const data = ev.map((e) => JSON.parse(e.data));
    // Blocks in index order, each start ... deltas ... stop, never interleaved.
    let open = -1;
    let next = 0;
    for (const d of data) {
      if (d.type === 'content_block_start') { assert.equal(open, -1); assert.equal(d.index, next); open = next++; }
      if (d.type === 'content_block_delta') assert.equal(d.index, open);
      if (d.type === 'content_block_stop') { assert.equal(d.index, open); open = -1; }
    }
    const text = data.filter((d) => d.delta?.type === 'text_delta').map((d) => d.delta.text).join('');
    assert.equal(text, "I'll use the Bash tool.");
    const tool = data.find((d) => d.type === 'content_block_start' && d.content_block.type === 'tool_use');
    assert.equal(tool.content_block.name, 'Bash');
    // The call streams live: its arguments arrive as fragments, joined they are its input.
    const args = data.filter((d) => d.index === tool.index && d.delta?.type === 'input_json_delta').map((d) => d.delta.partial_json);
    assert.ok(args.length >= 1);
    assert.deepEqual(JSON.parse(args.join('')), { command: 'echo hi' });
    const delta = data.at(-2);
    assert.equal(delta.delta.stop_reason, 'tool_use');
    assert.ok(delta.usage.input_tokens > 0 && delta.usage.output_tokens > 0);
  });

  test('the upstream\'s errors arrive in the Anthropic dialect', async () => {
    const limited = await postMessages(gw.port, { body: body(), headers: { ...as(cc), 'x-mock-fault': 'status-429', 'x-mock-retry-after': '2' } });
    assertAnthropicError(limited, 429, 'rate_limit_error', { sluiceGenerated: true });
    assert.equal(limited.headers['retry-after'], '2', 'retry-after passes through');
    const down = await postMessages(gw.port, { body: body(), headers: { ...as(cc), 'x-mock-fault': 'status-503' } });
    assertAnthropicError(down, 529, 'overloaded_error', { sluiceGenerated: true });
    const auth = await postMessages(gw.port, { body: body(), headers: { ...as(cc), 'x-mock-fault': 'status-401' } });
    assertAnthropicError(auth, 401, 'authentication_error', { sluiceGenerated: true });
  });

  test('a stream that breaks or errors never looks finished', async () => {
    const cut = await postMessages(gw.port, { body: body({ stream: true }), headers: { ...as(cc), 'x-mock-fault': 'truncate-after-4' } });
    assert.equal(cut.status, 200);
    const cutEvents = events(cut).map((e) => e.event);
    assert.ok(!cutEvents.includes('message_stop'), cutEvents.join());
    assert.equal(cutEvents.at(-1), 'error');
    const errored = await postMessages(gw.port, { body: body({ stream: true }), headers: { ...as(cc), 'x-mock-fault': 'error-after-4' } });
    const ev = events(errored);
    assert.ok(!ev.some((e) => e.event === 'message_stop'));
    assert.equal(ev.at(-1).event, 'error');
    assert.equal(JSON.parse(ev.at(-1).data).type, 'error');
  });

  test('count_tokens is answered locally for an OpenAI-routed model', async () => {
    const res = await request(gw.port, {
      method: 'POST', path: '/v1/messages/count_tokens', headers: { ...API_HEADERS, ...as(cc) },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello there' }] }),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-sluice-token-count'], 'estimate');
    assert.ok(res.json().input_tokens > 0);
  });
});
