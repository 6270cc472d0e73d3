// End to end: the official `@anthropic-ai/sdk` (version pinned in package-lock.json) talks to
// `sluice serve`, which relays to a `sluice mock` process. What the SDK hands the application
// must equal what the mock answers when asked directly.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startMock, startGateway } from '../support/harness.mjs';
import {
  plain, normalizeMessage, normalizeEvent, mockMessage, mockStreamEvents, mockCountTokens, mockModels,
  mockRequests, lastUserText, assertWellFormedStream, DIRECT_KEY, settledAccessLog, removeTempDirs, startRelayGateway } from './helpers.mjs';

const CLIENT_KEY = 'sk-ant-e2e-sdk-client-key-7f3a';
const PROVIDER_KEY = 'sk-ant-api03-e2e-PROVIDER-key-91c2';
const SDK_DIRECT_KEY = 'sk-ant-e2e-sdk-straight-to-mock'; // SDK calls that bypass the gateway
const MODEL = 'claude-sonnet-5-5'; // not on the SDK's deprecation list (no console warning)

let mock;
let gw; // no provider key: the SDK's own key goes upstream
let gwKey; // ANTHROPIC_API_KEY set: the gateway's key replaces the SDK's
const retiredLogs = []; // access-log lines of gateways that single tests started and stopped

before(async () => {
  mock = await startMock();
  [gw, gwKey] = await Promise.all([
    startRelayGateway(mock.url),
    startRelayGateway(mock.url, { env: { ANTHROPIC_API_KEY: PROVIDER_KEY } }),
  ]);
});

const retired = []; // gateways that single tests started and stopped

after(async () => {
  await Promise.all([gw, gwKey].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  removeTempDirs(mock, gw, gwKey, ...retired);
});

// An SDK client pointed at the gateway. maxRetries 0 unless a test is about retries, and a
// bounded timeout so that a hung gateway fails the test instead of stalling the run.
function client(opts = {}) {
  return new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15000, ...opts });
}

let seq = 0;
// A prompt no other test uses, so that a test finds its own requests in /_mock/requests.
const unique = (text) => `${text} e2e${++seq}x${process.pid}`;

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a place',
  input_schema: {
    type: 'object',
    properties: {
      location: { type: 'string' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer' },
      details: { type: 'boolean' },
      optional_note: { type: 'string' },
    },
    required: ['location', 'unit', 'days', 'details'],
  },
};

const LONG_REPLY = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');

// Requests whose replies cover every content-block kind and stop reason the mock produces
// (`headers`: request headers that steer the mock, sent both through the gateway and direct).
const CASES = {
  text: {
    params: { model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'tell me about rivers' }] },
    check(m) {
      assert.equal(m.content.length, 1);
      assert.equal(m.content[0].type, 'text');
      assert.equal(m.content[0].text, 'Hello from sluice mock! You said: tell me about rivers');
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.usage.output_tokens, 10);
    },
  },
  tool_use: {
    params: {
      model: MODEL, max_tokens: 512, tools: [WEATHER_TOOL],
      messages: [{ role: 'user', content: 'Please call get_weather Paris in spring' }],
    },
    check(m) {
      assert.deepEqual(m.content.map((b) => b.type), ['text', 'tool_use']);
      assert.equal(m.content[0].text, "I'll use the get_weather tool.");
      const tu = m.content[1];
      assert.equal(tu.name, 'get_weather');
      assert.match(tu.id, /^toolu_/);
      // An object built from the schema: string → the text after the tool's name, enum → its
      // first value, integer → 1, boolean → true; optional properties left out.
      assert.equal(typeof tu.input, 'object');
      assert.deepEqual(plain(tu.input), { location: 'Paris in spring', unit: 'celsius', days: 1, details: true });
      assert.equal(m.stop_reason, 'tool_use');
    },
  },
  thinking: {
    params: {
      model: MODEL, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'think about lakes' }],
    },
    check(m) {
      assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text']);
      assert.ok(m.content[0].thinking.length > 0, 'thinking text');
      assert.ok(m.content[0].signature.length > 0, 'thinking signature');
      assert.equal(m.content[1].text, 'Hello from sluice mock! You said: think about lakes');
      assert.equal(m.stop_reason, 'end_turn');
    },
  },
  thinking_and_tool_use: {
    // Claude Code's shape: adaptive thinking with the text omitted, system blocks with
    // cache_control, a role:"system" message inside `messages`, and a field newer than the
    // published spec. The gateway must pass all of it through.
    params: {
      model: 'claude-opus-5-5', max_tokens: 4096, thinking: { type: 'adaptive', display: 'omitted' },
      system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Be kind.', cache_control: { type: 'ephemeral' } }],
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>ignore me</system-reminder>' }, { type: 'text', text: 'get_weather Oslo' }] },
        { role: 'system', content: [{ type: 'text', text: '# Environment\nnothing to see' }] },
      ],
      output_config: { effort: 'medium' },
      metadata: { user_id: '{"device_id":"d","session_id":"s"}' },
    },
    check(m) {
      assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text', 'tool_use']);
      assert.equal(m.content[0].thinking, '');
      assert.ok(m.content[0].signature.length > 0);
      assert.deepEqual(plain(m.content[2].input), { location: 'Oslo', unit: 'celsius', days: 1, details: true });
      assert.equal(m.stop_reason, 'tool_use');
    },
  },
  stop_sequence: {
    params: { model: MODEL, max_tokens: 256, stop_sequences: ['three'], messages: [{ role: 'user', content: 'count one two three four' }] },
    check(m) {
      assert.equal(m.content[0].text, 'Hello from sluice mock! You said: count one two ');
      assert.equal(m.stop_reason, 'stop_sequence');
      assert.equal(m.stop_sequence, 'three');
    },
  },
  unicode: {
    // Multi-byte characters, and words longer than 16 bytes that the mock cuts into pieces at
    // character boundaries: every delta must reach the SDK intact.
    params: { model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'héllo wörld 你好世界 🚀🚀🚀🚀🚀 ññññññññññññññññññññ 日本語のテキストはとても長いです' }] },
    check(m) {
      assert.equal(m.content[0].text, 'Hello from sluice mock! You said: héllo wörld 你好世界 🚀🚀🚀🚀🚀 ññññññññññññññññññññ 日本語のテキストはとても長いです');
    },
  },
  long_reply: {
    // 3,000 text deltas (x-mock-reply sets the text).
    params: { model: MODEL, max_tokens: 8192, messages: [{ role: 'user', content: 'say a lot' }] },
    headers: { 'x-mock-reply': LONG_REPLY },
    check(m) {
      assert.equal(m.content[0].text, LONG_REPLY);
      assert.equal(m.usage.output_tokens, 3000);
    },
  },
  max_tokens: {
    params: { model: MODEL, max_tokens: 3, messages: [{ role: 'user', content: 'a long story please' }] },
    check(m) {
      assert.equal(m.content[0].text, 'Hello from sluice');
      assert.equal(m.stop_reason, 'max_tokens');
      assert.equal(m.usage.output_tokens, 3);
    },
  },
};

describe('messages.create (non-streaming) through the gateway', () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(`${name}: the SDK's message equals the mock's direct reply`, { timeout: 30000 }, async () => {
      const { data: viaGw, response, request_id } = await client().messages.create(c.params, { headers: c.headers }).withResponse();
      const direct = await mockMessage(mock, c.params, { headers: c.headers });
      c.check(viaGw);
      // Content, stop reason, usage, model, role: everything but the random ids.
      assert.deepEqual(normalizeMessage(viaGw), normalizeMessage(direct));
      assert.match(viaGw.id, /^msg_/);
      // The upstream's request id reaches the SDK (`request_id`), the gateway adds its own.
      assert.match(request_id, /^req_/);
      assert.match(response.headers.get('x-sluice-request-id') || '', /^req_/);
      assert.match(response.headers.get('anthropic-ratelimit-requests-limit') || '', /^\d+$/);
    });
  }
});

describe('messages.stream through the gateway', () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(`${name}: events are well-formed and equal the mock's; finalMessage() equals the mock's reply`, { timeout: 30000 }, async () => {
      const stream = client().messages.stream(c.params, { headers: c.headers });
      const events = [];
      let text = '';
      let inputJson = '';
      let contentBlocks = 0;
      stream.on('text', (delta) => { text += delta; });
      stream.on('inputJson', (partial) => { inputJson += partial; });
      stream.on('contentBlock', () => { contentBlocks++; });
      for await (const ev of stream) events.push(plain(ev));
      const final = await stream.finalMessage();

      const blocks = assertWellFormedStream(events);
      assert.equal(stream.request_id?.startsWith('req_'), true);

      // What the SDK yielded is what the mock streams when asked directly (pings are
      // swallowed by the SDK).
      const directEvents = (await mockStreamEvents(mock, c.params, { headers: c.headers })).filter((e) => e.type !== 'ping');
      assert.deepEqual(events.map(normalizeEvent), directEvents.map(normalizeEvent));

      // The accumulated message equals the mock's non-streaming reply.
      const direct = await mockMessage(mock, c.params, { headers: c.headers });
      c.check(final);
      assert.deepEqual(normalizeMessage(final), normalizeMessage(direct));
      assert.deepEqual(blocks, direct.content.map((b) => b.type));
      assert.equal(contentBlocks, direct.content.length);
      assert.equal(text, direct.content.filter((b) => b.type === 'text').map((b) => b.text).join(''));
      const tool = direct.content.find((b) => b.type === 'tool_use');
      if (tool) assert.deepEqual(JSON.parse(inputJson), tool.input);
      else assert.equal(inputJson, '');
    });
  }

  test('a paced stream arrives piece by piece, not in one lump at the end', { timeout: 30000 }, async () => {
    // 10 tokens at 20 tokens/s: ~0.5 s from first to last text delta.
    const stream = client().messages.stream(
      { model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'tell me about rivers' }] },
      { headers: { 'x-mock-tokens-per-second': '20' } },
    );
    const times = [];
    stream.on('text', () => times.push(Date.now()));
    const final = await stream.finalMessage();
    assert.equal(final.content[0].text, 'Hello from sluice mock! You said: tell me about rivers');
    assert.equal(times.length, 10);
    assert.ok(times.at(-1) - times[0] >= 250, `text deltas spread over ${times.at(-1) - times[0]} ms`);
  });
});

describe('beta namespace (?beta=true) through the gateway', () => {
  // Observed with @anthropic-ai/sdk 1.10.0: every request carries `anthropic-version:
  // 2026-10-21` (not 2023-06-01); `client.beta.messages.*` no longer appends `?beta=true` (the
  // SDK keeps it as an internal qualifier) and sends the betas in `anthropic-beta`; the API
  // key goes out as `Authorization: Bearer <key>` (no `x-api-key`);
  // `beta.messages.countTokens` adds `token-counting-2024-11-01` itself. Claude Code's bundled
  // SDK still sends `?beta=true` (claude-code.test.mjs), as does any client passing
  // `query: { beta: 'true' }`, tested here.

  // Makes the same SDK call straight to the mock and through the gateway and returns the two
  // requests the mock recorded.
  async function sentDirectAndViaGateway(call) {
    const out = [];
    for (const [baseURL, apiKey] of [[mock.url, SDK_DIRECT_KEY], [gw.url, CLIENT_KEY]]) {
      const prompt = unique('where does it go');
      const sdk = new Anthropic({ baseURL, apiKey, maxRetries: 0, timeout: 15000 });
      await call(sdk, prompt);
      const [rec] = await mockRequests(mock, (r) => lastUserText(r) === prompt);
      assert.ok(rec, 'the mock received the request');
      out.push(rec);
    }
    return out;
  }

  // Everything the SDK sent arrives unchanged, apart from what a proxy must change: host,
  // hop-by-hop headers, accept-encoding (sluice asks the upstream for identity) and the key.
  function assertSameRequest(viaGw, direct) {
    const strip = (h) => {
      const c = { ...h };
      for (const k of ['host', 'connection', 'keep-alive', 'accept-encoding', 'x-api-key', 'authorization']) delete c[k];
      return c;
    };
    assert.equal(viaGw.method, direct.method);
    assert.equal(viaGw.target, direct.target);
    assert.deepEqual(strip(viaGw.headers), strip(direct.headers));
    const body = (r) => ({ ...r.body, messages: '(prompt differs)' });
    assert.deepEqual(body(viaGw), body(direct));
  }

  test('beta.messages.create: the upstream sees exactly the target, headers and body the SDK sends directly', { timeout: 30000 }, async () => {
    const betas = ['interleaved-thinking-2025-05-14', 'some-future-beta-2099-01-01'];
    const [direct, viaGw] = await sentDirectAndViaGateway((sdk, prompt) =>
      sdk.beta.messages.create({ model: MODEL, max_tokens: 64, betas, messages: [{ role: 'user', content: prompt }] }));
    assertSameRequest(viaGw, direct);
    assert.equal(viaGw.target, '/v1/messages'); // SDK 1.10.0, see above
    assert.equal(viaGw.headers['anthropic-beta'], betas.join(','));
    assert.equal(viaGw.headers['anthropic-version'], '2026-10-21'); // SDK 1.10.0
    // SDK 1.10.0 sends the API key as `Authorization: Bearer`, not `x-api-key`; the key-less
    // gateway forwards it as it came.
    assert.equal(viaGw.headers.authorization, `Bearer ${CLIENT_KEY}`);
    assert.equal(direct.headers.authorization, `Bearer ${SDK_DIRECT_KEY}`);
    assert.equal(viaGw.body.betas, undefined, 'the SDK moves `betas` into the header');
  });

  test('beta.messages.create with ?beta=true: the query string and anthropic-beta arrive upstream unchanged', { timeout: 30000 }, async () => {
    const betas = ['interleaved-thinking-2025-05-14', 'some-future-beta-2099-01-01'];
    let reply;
    const [direct, viaGw] = await sentDirectAndViaGateway(async (sdk, prompt) => {
      reply = await sdk.beta.messages.create({ model: MODEL, max_tokens: 256, betas, messages: [{ role: 'user', content: prompt }] }, { query: { beta: 'true' } });
      assert.equal(reply.content[0].text, `Hello from sluice mock! You said: ${prompt}`);
    });
    assertSameRequest(viaGw, direct);
    assert.equal(viaGw.target, '/v1/messages?beta=true');
    assert.equal(viaGw.headers['anthropic-beta'], betas.join(','));
    const params = { model: MODEL, max_tokens: 256, messages: viaGw.body.messages };
    assert.deepEqual(normalizeMessage(reply), normalizeMessage(await mockMessage(mock, params, { query: '?beta=true' })));
  });

  test('beta.messages.stream with ?beta=true: same query string and header, final message equals the mock reply', { timeout: 30000 }, async () => {
    const prompt = unique('beta stream');
    const params = { model: MODEL, max_tokens: 256, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: prompt }] };
    const stream = client().beta.messages.stream({ ...params, betas: ['interleaved-thinking-2025-05-14'] }, { query: { beta: 'true' } });
    const final = await stream.finalMessage();
    assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
    assert.deepEqual(normalizeMessage(final), normalizeMessage(await mockMessage(mock, params, { query: '?beta=true' })));
    const [rec] = await mockRequests(mock, (r) => lastUserText(r) === prompt);
    assert.equal(rec.target, '/v1/messages?beta=true');
    assert.equal(rec.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(rec.body.stream, true);
  });

  test('beta.messages.countTokens with ?beta=true goes to /v1/messages/count_tokens?beta=true', { timeout: 30000 }, async () => {
    const prompt = unique('beta count');
    const params = { model: MODEL, messages: [{ role: 'user', content: prompt }], tools: [WEATHER_TOOL] };
    const r = await client().beta.messages.countTokens({ ...params, betas: ['some-future-beta-2099-01-01'] }, { query: { beta: 'true' } });
    assert.deepEqual(plain(r), await mockCountTokens(mock, params));
    const [rec] = await mockRequests(mock, (q) => lastUserText(q) === prompt);
    assert.equal(rec.target, '/v1/messages/count_tokens?beta=true');
    assert.equal(rec.headers['anthropic-beta'], 'some-future-beta-2099-01-01,token-counting-2024-11-01');
  });
});

describe('count_tokens and models through the gateway', () => {
  test('messages.countTokens equals the mock and the input_tokens a create reports', { timeout: 30000 }, async () => {
    const params = {
      model: MODEL, system: 'You are a helpful assistant.', tools: [WEATHER_TOOL],
      messages: [{ role: 'user', content: 'how many tokens is this sentence?' }],
    };
    const counted = await client().messages.countTokens(params);
    assert.deepEqual(plain(counted), await mockCountTokens(mock, params));
    assert.ok(counted.input_tokens > 10);
    const created = await client().messages.create({ ...params, max_tokens: 64 });
    assert.equal(created.usage.input_tokens, counted.input_tokens);
  });

  test('models.list: every model, auto-paginated, equal to the mock list', { timeout: 30000 }, async () => {
    const direct = await mockModels(mock);
    const all = [];
    for await (const m of client().models.list()) all.push(plain(m));
    assert.deepEqual(all, direct.data);
    assert.ok(all.some((m) => m.id === 'claude-opus-5-5'));

    // limit/after_id travel in the query string: three pages of two.
    const paged = [];
    let pages = 0;
    let page = await client().models.list({ limit: 2 });
    for (;;) {
      pages++;
      paged.push(...page.data.map((m) => m.id));
      if (!page.hasNextPage()) break;
      page = await page.getNextPage();
    }
    assert.deepEqual(paged, direct.data.map((m) => m.id));
    assert.equal(pages, Math.ceil(direct.data.length / 2));

    // GET /v1/models/{id} (not a route the issue lists, but relayed): an alias resolves.
    const one = await client().models.retrieve('claude-sonnet-4-5');
    assert.equal(one.id, 'claude-sonnet-4-5-20250929');
    assert.deepEqual(plain(one), direct.data.find((m) => m.id === one.id));
  });
});

describe('credentials', () => {
  test('with ANTHROPIC_API_KEY set on the gateway, the upstream sees that key, not the SDK\'s', { timeout: 30000 }, async () => {
    const prompt = unique('provider key');
    const sdk = new Anthropic({ baseURL: gwKey.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15000 });
    const m = await sdk.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
    assert.equal(m.content[0].text, `Hello from sluice mock! You said: ${prompt}`);
    const [rec] = await mockRequests(mock, (r) => lastUserText(r) === prompt);
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
    assert.ok(!JSON.stringify(rec.headers).includes(CLIENT_KEY), 'the client key does not travel upstream');
    const log = await settledAccessLog(gwKey, (lines) => lines.some((l) => l.upstream_request_id === rec.request_id));
    assert.ok(log.some((l) => l.upstream_request_id === rec.request_id), 'the request is in the access log');
    const text = JSON.stringify(log);
    assert.ok(!text.includes(PROVIDER_KEY) && !text.includes(CLIENT_KEY) && !text.includes(prompt), 'no keys or prompt text in the access log');
  });

  test('an SDK using authToken (Authorization: Bearer) works through the key-less gateway', { timeout: 30000 }, async () => {
    const prompt = unique('bearer');
    const sdk = new Anthropic({ baseURL: gw.url, apiKey: null, authToken: 'e2e-bearer-token-55', maxRetries: 0, timeout: 15000 });
    const m = await sdk.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
    assert.equal(m.content[0].text, `Hello from sluice mock! You said: ${prompt}`);
    const [rec] = await mockRequests(mock, (r) => lastUserText(r) === prompt);
    assert.equal(rec.headers.authorization, 'Bearer e2e-bearer-token-55');
  });
});

const hello = (prompt) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: prompt }] });

describe('errors reach the SDK as its error classes', () => {
  test('upstream 429 → RateLimitError at once with maxRetries 0; retry-after passes through', { timeout: 30000 }, async () => {
    const prompt = unique('rate limited');
    await assert.rejects(
      client().messages.create(hello(prompt), { headers: { 'x-mock-fault': 'status-429' } }),
      (err) => {
        assert.ok(err instanceof Anthropic.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 429);
        assert.equal(err.headers.get('retry-after'), '1');
        assert.equal(err.error?.type, 'error');
        assert.equal(err.error?.error?.type, 'rate_limit_error');
        assert.match(err.requestID || '', /^req_/);
        return true;
      },
    );
    assert.equal((await mockRequests(mock, (r) => lastUserText(r) === prompt)).length, 1);
  });

  test('upstream 429 every time → RateLimitError after the SDK\'s own 2 retries, honouring retry-after', { timeout: 30000 }, async () => {
    const prompt = unique('rate limited thrice');
    const t0 = Date.now();
    await assert.rejects(
      client({ maxRetries: 2 }).messages.create(hello(prompt), { headers: { 'x-mock-fault': 'status-429', 'x-mock-retry-after': '1' } }),
      (err) => err instanceof Anthropic.RateLimitError && err.status === 429,
    );
    const elapsed = Date.now() - t0;
    const recs = await mockRequests(mock, (r) => lastUserText(r) === prompt);
    assert.equal(recs.length, 3, 'three attempts reached the mock');
    assert.deepEqual(recs.map((r) => r.headers['x-stainless-retry-count']), ['0', '1', '2']);
    assert.ok(elapsed >= 1900, `the SDK waited retry-after (1 s) twice: ${elapsed} ms`);
  });

  test('upstream 529 → OverloadedError (status 529), streaming and not', { timeout: 30000 }, async () => {
    const check = (err) => {
      assert.ok(err instanceof Anthropic.OverloadedError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.ok(err instanceof Anthropic.InternalServerError);
      assert.equal(err.status, 529);
      assert.equal(err.error?.error?.type, 'overloaded_error');
      assert.equal(err.error?.error?.message, 'Overloaded');
      return true;
    };
    const headers = { 'x-mock-fault': 'status-529' };
    await assert.rejects(client().messages.create(hello(unique('overloaded')), { headers }), check);
    await assert.rejects(client().messages.stream(hello(unique('overloaded stream')), { headers }).finalMessage(), check);
  });

  test('a gateway 400 (max_tokens missing) → BadRequestError with the gateway\'s message, not retried', { timeout: 30000 }, async () => {
    const prompt = unique('no max tokens');
    let fetches = 0;
    const counting = (...args) => { fetches++; return fetch(...args); };
    let requestId;
    await assert.rejects(
      // The SDK's types require max_tokens; plain JS lets the request go out without it.
      client({ maxRetries: 2, fetch: counting }).messages.create({ model: MODEL, messages: [{ role: 'user', content: prompt }] }),
      (err) => {
        assert.ok(err instanceof Anthropic.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 400);
        assert.equal(err.error?.error?.type, 'invalid_request_error');
        assert.equal(err.error?.error?.message, 'max_tokens: Field required');
        assert.match(err.message, /^400 .*max_tokens: Field required/);
        assert.match(err.requestID || '', /^req_/);
        assert.equal(err.error?.request_id, err.requestID, 'the body carries the same request id as the header');
        assert.equal(err.headers.get('x-should-retry'), 'false');
        requestId = err.requestID;
        return true;
      },
    );
    assert.equal(fetches, 1, 'the SDK did not retry the 400 (x-should-retry: false)');
    assert.equal((await mockRequests(mock, (r) => lastUserText(r) === prompt)).length, 0, 'the gateway answered itself');
    const line = (await settledAccessLog(gw, (ls) => ls.some((l) => l.request_id === requestId))).find((l) => l.request_id === requestId);
    assert.ok(line, 'the 400 is in the access log under the id the SDK saw');
    assert.equal(line.status, 400);
    assert.equal(line.attempts, 0);
  });

  test('a gateway 400 seen by a raw fetch: malformed JSON says where', { timeout: 30000 }, async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: '{"model":"m","max_tokens":5,"messages":[}',
      signal: AbortSignal.timeout(10000),
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /byte|offset|position|line|column/i);
    assert.equal(body.request_id, res.headers.get('request-id'));
  });

  test('an upstream stream reset mid-way → the SDK stream throws, never a complete message', { timeout: 30000 }, async () => {
    const prompt = unique('reset me');
    const stream = client().messages.stream(hello(prompt), { headers: { 'x-mock-fault': 'reset-after-5' } });
    let text = '';
    stream.on('text', (d) => { text += d; });
    const events = [];
    let thrown;
    try {
      for await (const ev of stream) events.push(ev.type);
    } catch (e) {
      thrown = e;
    }
    // After the 200 head the gateway reports the upstream failure as one `event: error`
    // (wire-protocols.md §3.4), which the SDK raises as an APIError without a status.
    assert.ok(thrown instanceof Anthropic.APIError, `iteration throws an APIError: ${thrown}`);
    assert.equal(thrown.status, undefined);
    assert.equal(thrown.error?.error?.type, 'api_error');
    await assert.rejects(stream.finalMessage());
    assert.equal(stream.receivedMessages.length, 0, 'no message was completed');
    assert.ok(!events.includes('message_stop'));
    // Events 1..5 were message_start, content_block_start, ping, "Hello", " from".
    assert.equal(text, 'Hello from');
    assert.equal((await mockRequests(mock, (r) => lastUserText(r) === prompt)).length, 1, 'no retry after the 200 head');
    const id = stream.response?.headers.get('x-sluice-request-id');
    const line = (await settledAccessLog(gw, (ls) => ls.some((l) => l.request_id === id))).find((l) => l.request_id === id);
    assert.ok(line, 'the access log has the request');
    assert.equal(line.stream, true);
    assert.ok(line.error, 'the access log marks the broken stream');
  });

  test('an in-band error event upstream reaches the SDK as an error with its type', { timeout: 30000 }, async () => {
    const stream = client().messages.stream(hello(unique('in-band error')), { headers: { 'x-mock-fault': 'error-after-4' } });
    await assert.rejects(stream.finalMessage(), (err) => {
      assert.ok(err instanceof Anthropic.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.error?.error?.type, 'overloaded_error');
      return true;
    });
    assert.equal(stream.receivedMessages.length, 0);
  });

  test('an upstream stream that ends without message_stop → the SDK does not resolve a message', { timeout: 30000 }, async () => {
    const stream = client().messages.stream(hello(unique('truncated')), { headers: { 'x-mock-fault': 'truncate-after-6' } });
    await assert.rejects(stream.finalMessage(), (err) => {
      // Reported like a reset: one `event: error` from the gateway.
      assert.ok(err instanceof Anthropic.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.error?.error?.type, 'api_error');
      return true;
    });
    assert.equal(stream.receivedMessages.length, 0);
  });

  test('malformed SSE upstream (bad ping, data without event) is relayed and skipped by the SDK', { timeout: 30000 }, async () => {
    const params = hello('tolerate noise');
    const final = await client().messages.stream(params, { headers: { 'x-mock-fault': 'malformed-sse' } }).finalMessage();
    assert.deepEqual(normalizeMessage(final), normalizeMessage(await mockMessage(mock, params)));
  });
});

describe('concurrency, cancellation and shutdown', () => {
  test('30 concurrent paced streams each get their own complete reply', { timeout: 30000 }, async () => {
    const sdk = client();
    const finals = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      sdk.messages.stream(hello(`parallel ${i}`), { headers: { 'x-mock-tokens-per-second': '50' } }).finalMessage()));
    finals.forEach((m, i) => {
      assert.equal(m.content[0].text, `Hello from sluice mock! You said: parallel ${i}`);
      assert.equal(m.stop_reason, 'end_turn');
    });
  });

  test('the SDK aborting a stream mid-way: APIUserAbortError; the gateway logs it and keeps serving', { timeout: 30000 }, async () => {
    const stream = client().messages.stream(hello('abort me after the first word'), { headers: { 'x-mock-tokens-per-second': '10' } });
    stream.on('text', () => stream.abort());
    await assert.rejects(stream.finalMessage(), (err) => err instanceof Anthropic.APIUserAbortError);
    const id = stream.response?.headers.get('x-sluice-request-id');
    assert.match(id || '', /^req_/);
    // The gateway notices at its next write to the closed connection.
    const line = (await settledAccessLog(gw, (ls) => ls.some((l) => l.request_id === id), 5000)).find((l) => l.request_id === id);
    assert.ok(line, 'the aborted request is in the access log');
    assert.ok(line.error, `marked as not completed: ${JSON.stringify(line)}`);
    const m = await client().messages.create(hello('still there?'));
    assert.equal(m.content[0].text, 'Hello from sluice mock! You said: still there?');
  });

  test('SIGTERM: an in-flight SDK stream finishes, new connections are refused, exit 0', { timeout: 30000 }, async () => {
    const own = await startRelayGateway(mock.url);
    try {
      const sdk = new Anthropic({ baseURL: own.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15000 });
      // 12 tokens at 8 tokens/s: ~1.5 s.
      const stream = sdk.messages.stream(hello('drain me gently please'), { headers: { 'x-mock-tokens-per-second': '8' } });
      let deltas = 0;
      const firstDelta = new Promise((r) => stream.on('text', () => { if (++deltas === 1) r(); }));
      await firstDelta;
      process.kill(own.proc.pid, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      await assert.rejects(fetch(`${own.url}/healthz`, { signal: AbortSignal.timeout(3000) }), 'no new connections while draining');
      const final = await stream.finalMessage();
      assert.equal(final.content[0].text, 'Hello from sluice mock! You said: drain me gently please');
      assert.ok(deltas > 5, 'most of the stream arrived after SIGTERM');
      let timer;
      const exit = await Promise.race([own.exited, new Promise((r) => { timer = setTimeout(() => r('timeout'), 10000); })]);
      clearTimeout(timer);
      assert.deepEqual(exit, { code: 0, signal: null });
    } finally {
      await own.stop();
      retiredLogs.push(...own.accessLog()); // flushed: the process has exited
      retired.push(own);
    }
  });
});

describe('retries across the gateway', () => {
  test('x-mock-fail-times 2 with 529: maxRetries 2 succeeds on the third attempt', { timeout: 30000 }, async () => {
    const prompt = unique('third time lucky');
    const key = `e2e-fail-${process.pid}-${Date.now()}`;
    const params = { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: prompt }] };
    const m = await client({ maxRetries: 2 }).messages.create(params, {
      headers: { 'x-mock-fault': 'status-529', 'x-mock-fail-times': '2', 'x-mock-fault-key': key },
    });
    assert.equal(m.content[0].text, `Hello from sluice mock! You said: ${prompt}`);
    const recs = await mockRequests(mock, (r) => lastUserText(r) === prompt);
    assert.equal(recs.length, 3);
    assert.deepEqual(recs.map((r) => r.headers['x-stainless-retry-count']), ['0', '1', '2']);
    assert.ok(recs.every((r) => r.headers['x-mock-fault-key'] === key));
  });

  test('the same for a stream: the SDK retries before the 200 head and accumulates the reply', { timeout: 30000 }, async () => {
    const prompt = unique('third time lucky, streamed');
    const key = `e2e-fail-stream-${process.pid}-${Date.now()}`;
    const params = { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: prompt }] };
    const final = await client({ maxRetries: 2 }).messages.stream(params, {
      headers: { 'x-mock-fault': 'status-529', 'x-mock-fail-times': '2', 'x-mock-fault-key': key },
    }).finalMessage();
    assert.equal((await mockRequests(mock, (r) => lastUserText(r) === prompt)).length, 3);
    assert.deepEqual(normalizeMessage(final), normalizeMessage(await mockMessage(mock, params)));
  });

  test('with maxRetries 1 the same fault (fail twice) surfaces as OverloadedError', { timeout: 30000 }, async () => {
    const key = `e2e-fail-short-${process.pid}-${Date.now()}`;
    await assert.rejects(
      client({ maxRetries: 1 }).messages.create(hello(unique('not lucky')), {
        headers: { 'x-mock-fault': 'status-529', 'x-mock-fail-times': '2', 'x-mock-fault-key': key },
      }),
      (err) => err instanceof Anthropic.OverloadedError,
    );
  });
});

test('the access log has one line per SDK request, with no prompt text and no key', { timeout: 30000 }, async () => {
  const recorded = await mockRequests(mock);
  const relayedCount = recorded.filter((r) => r.headers['x-api-key'] !== DIRECT_KEY && r.headers.authorization !== `Bearer ${SDK_DIRECT_KEY}`).length;
  const upstreamCount = (lines) => lines.filter((l) => l.attempts > 0).length;
  const keyLines = await settledAccessLog(gwKey, (ls) => upstreamCount([...ls, ...retiredLogs]) >= 1);
  const log = await settledAccessLog(gw, (ls) => upstreamCount([...ls, ...keyLines, ...retiredLogs]) >= relayedCount);
  const keyLog = [...keyLines, ...retiredLogs];
  assert.ok(recorded.length < 200, 'within the mock\'s record limit');
  assert.ok(log.length > 20);
  // Every request the mock saw that did not come straight from a test came through gw or gwKey;
  // the gateways' own 400s never reached it.
  const relayed = recorded.filter((r) => r.headers['x-api-key'] !== DIRECT_KEY && r.headers.authorization !== `Bearer ${SDK_DIRECT_KEY}`);
  const upstreamLines = [...log, ...keyLog].filter((l) => l.attempts > 0);
  assert.equal(upstreamLines.length, relayed.length);
  assert.deepEqual(upstreamLines.map((l) => l.upstream_request_id).sort(), relayed.map((r) => r.request_id).sort());
  const gwOnly = [...log, ...keyLog].filter((l) => l.attempts === 0);
  assert.ok(gwOnly.every((l) => l.status === 400), 'only the bad requests were answered by the gateway itself');
  const text = JSON.stringify([...log, ...keyLog]);
  for (const secret of [CLIENT_KEY, PROVIDER_KEY, 'e2e-bearer-token-55', 'tell me about rivers', 'think about lakes', 'Paris in spring', 'You are terse']) {
    assert.ok(!text.includes(secret), `access log leaks ${secret}`);
  }
  for (const l of log) {
    assert.match(l.request_id, /^req_/);
    assert.equal(typeof l.status, 'number');
    assert.equal(typeof l.latency_ms, 'number');
    assert.equal(typeof l.stream, 'boolean');
  }
});
