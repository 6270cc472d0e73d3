// End to end, issue 7's other direction: the official `openai` SDK (pinned in package-lock.json)
// talks Chat Completions to sluice, which sends Messages requests to `sluice mock`'s Anthropic
// API and translates the answers back: plain replies with usage, streams with tool calls and
// the usage chunk, a full tool loop, the model list in OpenAI's shape, errors as the SDK's error
// classes, and the ledger's usage equal to what the mock reports.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock } from '../support/harness.mjs';
import { mockRequests } from './helpers.mjs';
import { startUsageGateway, PROVIDER_KEY } from '../integration/usage_helpers.mjs';

const KEY = 'sk-openai-client-of-the-gateway';
const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};
let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 15000 });

// What the mock itself reports for a Messages request it received (asked again, straight).
async function mockUsage(body) {
  const res = await fetch(`${mock.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': 'direct', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: false }),
  });
  return (await res.json()).usage;
}

describe('the openai SDK on Claude through sluice', () => {
  test('a plain reply with usage; the upstream gets a Messages request with the gateway key', { timeout: 20000 }, async () => {
    const { data, request_id } = await client().chat.completions.create({
      model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi there' }],
    }).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.model, 'claude-sonnet-4-5');
    assert.equal(data.choices[0].message.content, 'Hello from sluice mock! You said: hi there');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.ok(request_id);
    const [rec] = (await mockRequests(mock)).filter((r) => JSON.stringify(r.body).includes('hi there'));
    assert.equal(rec.target, '/v1/messages');
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
    assert.equal(rec.body.system, 'be brief');
    assert.equal(rec.body.max_tokens, 4096, 'Anthropic requires max_tokens: a default when the client sends none');
    const u = await mockUsage(rec.body);
    assert.equal(data.usage.prompt_tokens, u.input_tokens);
    assert.equal(data.usage.completion_tokens, u.output_tokens);
  });

  test('a stream with a tool call, the usage chunk, then the tool loop', { timeout: 20000 }, async () => {
    const messages = [{ role: 'user', content: 'get_weather Lisbon' }];
    const stream = await client().chat.completions.create({
      model: 'claude-sonnet-4-5', tools: [WEATHER], messages, stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    assert.equal(finish.choices[0].finish_reason, 'tool_calls');
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls || []);
    assert.equal(calls[0].function.name, 'get_weather');
    const args = calls.map((c) => c.function.arguments || '').join('');
    assert.deepEqual(JSON.parse(args), { location: 'Lisbon' });

    // The SDK's own accumulator agrees, and the tool result closes the loop.
    const runner = client().chat.completions.stream({ model: 'claude-sonnet-4-5', tools: [WEATHER], messages });
    const final = await runner.finalChatCompletion();
    const msg = final.choices[0].message;
    assert.equal(msg.tool_calls[0].function.name, 'get_weather');
    const next = await client().chat.completions.create({
      model: 'claude-sonnet-4-5', tools: [WEATHER],
      messages: [...messages, msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: 'sunny, 21 C' }],
    });
    assert.equal(next.choices[0].message.content, 'Tool result received: sunny, 21 C');
  });

  test('models.list answers in the OpenAI shape, from the Anthropic list', { timeout: 20000 }, async () => {
    const page = await client().models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes('claude-sonnet-4-5-20250929'), ids.join());
    for (const m of page.data) {
      assert.equal(m.object, 'model');
      assert.equal(m.owned_by, 'anthropic');
      assert.ok(Number.isInteger(m.created) && m.created > 1.7e9, `${m.id} created ${m.created}`);
    }
    const sonnet = page.data.find((m) => m.id === 'claude-sonnet-4-5-20250929');
    assert.equal(sonnet.created, Date.UTC(2025, 8, 29) / 1000);
    const one = await client().models.retrieve('claude-sonnet-4-5');
    assert.equal(one.id, 'claude-sonnet-4-5-20250929');
    assert.equal(one.object, 'model');
  });

  test('errors arrive as the SDK\'s error classes', { timeout: 20000 }, async () => {
    await assert.rejects(
      client().chat.completions.create({ model: 'claude-sonnet-4-5', n: 2, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof OpenAI.BadRequestError && /n: only 1/.test(e.message));
    await assert.rejects(
      client().chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-mock-fault': 'status-429', 'x-mock-fail-times': '9', 'x-mock-fault-key': `oai-429-${process.pid}` } }),
      (e) => e instanceof OpenAI.RateLimitError);
  });

  test('the ledger holds what the mock reported, request by request', { timeout: 20000 }, async () => {
    // The gateway's requests (not this test's replays), except those answered by an injected
    // fault, which carry no usage.
    const received = (await mockRequests(mock)).filter((r) => r.target === '/v1/messages' &&
      r.headers['x-api-key'] === PROVIDER_KEY && !r.headers['x-mock-fault']);
    let input = 0;
    let output = 0;
    for (const r of received) {
      const u = await mockUsage(r.body);
      input += u.input_tokens;
      output += u.output_tokens;
    }
    const today = new Date().toISOString().slice(0, 10);
    let row;
    for (let i = 0; i < 50 && !(row && row.output_tokens >= output); ++i) {
      const report = gw.cli('usage', '--by', 'day', '--since', today);
      assert.equal(report.code, 0, report.stderr);
      row = report.json().data[0];
      if (!(row && row.output_tokens >= output)) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(row.input_tokens, input);
    assert.equal(row.output_tokens, output);
  });
});
