// End to end: the official `openai` SDK (version pinned in package-lock.json) against
// `sluice mock`'s Chat Completions dialect directly. This proves the mock speaks the dialect the
// official client expects, so the translation tests can stand on it (openai-sdk-gateway.test.mjs
// runs the same SDK through sluice to Claude).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock } from '../support/harness.mjs';
import { plain, mockRequests, removeTempDirs } from './helpers.mjs';

const KEY = 'sk-e2e-openai-client-key';
let mock;

before(async () => {
  mock = await startMock();
});

after(async () => {
  if (mock) await mock.stop();
  removeTempDirs(mock);
});

const client = (opts = {}) => new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 15000, ...opts });

// The mock's own answer to the same request (raw fetch), for comparison.
async function direct(body) {
  const res = await fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer direct', 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: false }),
    signal: AbortSignal.timeout(10000),
  });
  assert.equal(res.status, 200);
  return res.json();
}

const withoutIds = (c) => {
  const x = plain(c);
  delete x.id;
  delete x.created;
  for (const ch of x.choices || []) for (const tc of ch.message?.tool_calls || []) tc.id = 'call_ID';
  return x;
};

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer' } },
      required: ['location', 'unit', 'days'],
    },
  },
};

describe('chat.completions.create (non-streaming)', () => {
  test('plain reply, usage, request id', { timeout: 20000 }, async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi there' }] };
    const { data, response, request_id } = await client().chat.completions.create(body).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.model, 'gpt-4o');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'Hello from sluice mock! You said: hi there');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(data.usage.completion_tokens, 8);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.ok(request_id, 'x-request-id reaches the SDK');
    assert.equal(response.headers.get('x-request-id'), request_id);
    assert.deepEqual(withoutIds(data), withoutIds(await direct(body)));
    const [rec] = await mockRequests(mock, (r) => r.headers.authorization === `Bearer ${KEY}` && r.body?.messages?.at(-1)?.content === 'hi there');
    assert.equal(rec.target, '/v1/chat/completions');
  });

  test('tool call: arguments are JSON built from the schema', { timeout: 20000 }, async () => {
    const body = { model: 'gpt-4o', tools: [WEATHER], messages: [{ role: 'user', content: 'get_weather Lisbon' }] };
    const c = await client().chat.completions.create(body);
    const msg = c.choices[0].message;
    assert.equal(c.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.tool_calls.length, 1);
    assert.equal(msg.tool_calls[0].type, 'function');
    assert.match(msg.tool_calls[0].id, /^call_/);
    assert.equal(msg.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { location: 'Lisbon', unit: 'celsius', days: 1 });
    assert.deepEqual(withoutIds(c), withoutIds(await direct(body)));

    // The tool result ends the loop with the mock's fixed reply.
    const next = await client().chat.completions.create({
      model: 'gpt-4o', tools: [WEATHER],
      messages: [...body.messages, msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: 'sunny, 21 C' }],
    });
    assert.equal(next.choices[0].message.content, 'Tool result received: sunny, 21 C');
    assert.equal(next.choices[0].finish_reason, 'stop');
  });

  test('max_completion_tokens cuts the reply with finish_reason length', { timeout: 20000 }, async () => {
    const c = await client().chat.completions.create({ model: 'gpt-4o', max_completion_tokens: 3, messages: [{ role: 'user', content: 'a long story' }] });
    assert.equal(c.choices[0].message.content, 'Hello from sluice');
    assert.equal(c.choices[0].finish_reason, 'length');
    assert.equal(c.usage.completion_tokens, 3);
  });
});

describe('chat.completions streaming', () => {
  test('create({stream: true}): chunks join to the non-streaming reply; usage chunk last', { timeout: 20000 }, async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'stream me please' }] };
    const stream = await client().chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 3);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content || '')).join('');
    const ref = await direct(body);
    assert.equal(text, ref.choices[0].message.content);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finish.length, 1);
    assert.equal(finish[0].choices[0].finish_reason, 'stop');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.deepEqual(plain(last.usage), plain(ref.usage));
  });

  test('without include_usage there is no usage chunk', { timeout: 20000 }, async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'no usage' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.every((c) => c.choices.length === 1));
    assert.ok(chunks.every((c) => !c.usage));
  });

  test('chat.completions.stream helper: finalChatCompletion with tool_calls equals the mock reply', { timeout: 20000 }, async () => {
    const body = { model: 'gpt-4o', tools: [WEATHER], messages: [{ role: 'user', content: 'please get_weather Rome' }] };
    const stream = client().chat.completions.stream({ ...body, stream_options: { include_usage: true } });
    let argsDelta = '';
    stream.on('tool_calls.function.arguments.delta', (e) => { argsDelta += e.arguments_delta; });
    const final = await stream.finalChatCompletion();
    const ref = await direct(body);
    const msg = final.choices[0].message;
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.content, "I'll use the get_weather tool.");
    assert.equal(msg.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { location: 'Rome', unit: 'celsius', days: 1 });
    assert.equal(argsDelta, msg.tool_calls[0].function.arguments);
    assert.equal(msg.tool_calls[0].function.arguments, ref.choices[0].message.tool_calls[0].function.arguments);
    assert.deepEqual(plain(final.usage), plain(ref.usage));
  });

  test('reasoning_effort: DeepSeek-style reasoning_content arrives in deltas and the reply', { timeout: 20000 }, async () => {
    const body = { model: 'gpt-4o', reasoning_effort: 'low', messages: [{ role: 'user', content: 'reason a bit' }] };
    const stream = await client().chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let reasoning = '';
    let text = '';
    let usage;
    for await (const c of stream) {
      for (const ch of c.choices) { reasoning += ch.delta.reasoning_content || ''; text += ch.delta.content || ''; }
      if (c.usage) usage = c.usage;
    }
    const ref = await direct(body);
    assert.ok(reasoning.length > 0);
    assert.equal(reasoning, ref.choices[0].message.reasoning_content);
    assert.equal(text, 'Hello from sluice mock! You said: reason a bit');
    assert.ok(usage.completion_tokens_details.reasoning_tokens > 0);
  });
});

describe('models and errors', () => {
  test('models.list answers in the OpenAI shape', { timeout: 20000 }, async () => {
    const ids = [];
    for await (const m of client().models.list()) {
      assert.equal(m.object, 'model');
      ids.push(m.id);
    }
    assert.ok(ids.includes('claude-opus-5-5'));
    assert.ok(ids.length >= 6);
  });

  test('status-429 → RateLimitError with retry-after; the SDK retries it when allowed', { timeout: 20000 }, async () => {
    await assert.rejects(
      client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'rl' }] }, { headers: { 'x-mock-fault': 'status-429' } }),
      (err) => {
        assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}`);
        assert.equal(err.status, 429);
        assert.equal(err.code, 'rate_limit_exceeded');
        assert.ok(err.headers.get('retry-after'));
        return true;
      },
    );
    const key = `e2e-openai-${process.pid}-${Date.now()}`;
    const ok = await client({ maxRetries: 2 }).chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'second time' }] },
      { headers: { 'x-mock-fault': 'status-503', 'x-mock-fail-times': '1', 'x-mock-fault-key': key } },
    );
    assert.equal(ok.choices[0].message.content, 'Hello from sluice mock! You said: second time');
  });

  test('an empty messages array → BadRequestError; no key → 401 in OpenAI wording', { timeout: 20000 }, async () => {
    await assert.rejects(
      client().chat.completions.create({ model: 'gpt-4o', messages: [] }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}`);
        assert.equal(err.status, 400);
        assert.equal(err.type, 'invalid_request_error');
        assert.equal(err.code, 'empty_array');
        assert.match(err.message, /Invalid 'messages'/);
        return true;
      },
    );
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      signal: AbortSignal.timeout(10000),
    });
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.match(body.error.message, /API key/);
  });

  test('an in-band stream error (error-after-3) makes the SDK stream throw', { timeout: 20000 }, async () => {
    const stream = await client().chat.completions.create(
      { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'break please' }] },
      { headers: { 'x-mock-fault': 'error-after-3' } },
    );
    let n = 0;
    await assert.rejects(async () => { for await (const _ of stream) n++; }, (err) => err instanceof OpenAI.APIError);
    assert.equal(n, 3);
  });

  test('malformed SSE makes the SDK raise (OpenAI streams have no tolerated noise)', { timeout: 20000 }, async () => {
    // The SDK logs the unparsable line before it throws; keep the test output clean.
    const quiet = { error() {}, warn() {}, info() {}, debug() {} };
    const stream = await client({ logger: quiet }).chat.completions.create(
      { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'noise' }] },
      { headers: { 'x-mock-fault': 'malformed-sse' } },
    );
    await assert.rejects(async () => { for await (const _ of stream); }, (err) => err instanceof SyntaxError);
  });
});
