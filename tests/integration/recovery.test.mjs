// Upstream stream recovery (issue 6 item 5, docs/resume.md): an Anthropic stream that breaks
// after content began (reset, idle timeout, in-band overloaded_error) is asked for again with the
// text so far as a prefill, and the continuation is spliced into the same client stream. On the
// deterministic mock the recovered text must equal the unbroken text, with one message_start,
// consistent block indexes and the honest sum of every attempt's usage.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock } from '../support/harness.mjs';
import { API_HEADERS, messagesBody, request, mockRequestsWith, waitFor, accumulate } from './helpers.mjs';
import { startUsageGateway, join, SONNET } from './usage_helpers.mjs';

let mock;
let gw; // recovery on for every model that takes a prefill, up to 3 continuations
let off; // the defaults: recovery off
let seq = 0;
const marker = () => `recovery-${process.pid}-${++seq}`;

before(async () => {
  mock = await startMock();
  [gw, off] = await Promise.all([
    startUsageGateway(mock.url, {
      yaml: { streams: { recovery: true, recovery_attempts: 3 } },
      // Every broken attempt counts against the breaker; these tests break on purpose.
      provider: { timeouts: { idle_ms: 400 }, breaker: { consecutive_failures: 1000000, min_requests: 1000000 } },
    }),
    startUsageGateway(mock.url),
  ]);
});

after(async () => {
  for (const g of [gw, off]) if (g) await g.stop();
  if (mock) await mock.stop();
});

const PROMPT = 'one two three four five six seven eight';

// A streaming request; `fault` applies to the first `times` upstream requests of this marker only.
function streamRequest(tag, { fault, times = 1, model = SONNET, extra = {}, body = {} } = {}) {
  const headers = { ...API_HEADERS, 'x-test-marker': tag, ...extra };
  if (fault) Object.assign(headers, { 'x-mock-fault': fault, 'x-mock-fail-times': String(times), 'x-mock-fault-key': tag });
  return { method: 'POST', path: '/v1/messages', headers, body: messagesBody(PROMPT, { stream: true, model, max_tokens: 300, ...body }) };
}

function ledgerRow(g, requestId) {
  const q = spawnSync('sqlite3', ['-json', join(g.dataDir, 'sluice.db'),
    `SELECT input_tokens, output_tokens, estimated, attempts, recoveries, error FROM requests WHERE request_id = '${requestId}'`], { encoding: 'utf8' });
  assert.equal(q.status, 0, q.stderr);
  return q.stdout.trim() ? JSON.parse(q.stdout)[0] : null;
}

describe('a broken upstream stream is continued', () => {
  let reference;
  before(async () => {
    const res = await request(gw.port, streamRequest(marker()));
    reference = accumulate(res.events);
    assert.equal(reference.text, `Hello from sluice mock! You said: ${PROMPT}`);
  });

  for (const n of [4, 5, 8, 12, 15]) {
    test(`reset after event ${n}: the client gets the unbroken text in one stream, and the usage of both attempts`, async () => {
      const tag = marker();
      const res = await request(gw.port, streamRequest(tag, { fault: `reset-after-${n}` }));
      assert.equal(res.status, 200);
      assert.equal(res.events.at(-1).event, 'message_stop', res.text.slice(-300));
      assert.ok(!res.events.some((e) => e.event === 'error'));
      const got = accumulate(res.events);
      assert.equal(got.text, reference.text);
      assert.deepEqual(got.blocks.map((b) => b.type), ['text']);
      assert.match(res.text, /^: sluice recovered the broken upstream stream; attempt 2 continues it$/m);
      const upstream = await mockRequestsWith(mock, 'x-test-marker', tag);
      assert.equal(upstream.length, 2, 'the original request and one continuation');
      const prefill = upstream[1].body.messages.at(-1);
      assert.equal(prefill.role, 'assistant');
      assert.ok(reference.text.startsWith(prefill.content), `the prefill is the text the client had: ${prefill.content}`);
      assert.ok(upstream[1].body.max_tokens < 300, 'max_tokens less what was produced');
      // Usage: both attempts' input; the first attempt's output estimated from its text.
      assert.ok(got.usage.input_tokens > reference.usage.input_tokens, JSON.stringify(got.usage));
      assert.ok(got.usage.output_tokens >= reference.usage.output_tokens, JSON.stringify(got.usage));
      const row = await waitFor(() => ledgerRow(gw, res.headers['x-sluice-request-id']), 3000);
      assert.equal(row.input_tokens, got.usage.input_tokens, 'the ledger has what the client was told');
      assert.equal(row.output_tokens, got.usage.output_tokens);
      assert.equal(row.estimated, 1, 'the broken attempt never reported its output');
      assert.equal(row.attempts, 2);
      assert.equal(row.recoveries, 1, 'the row says the stream was recovered');
      const line = await waitFor(() => gw.accessLog().find((l) => l.request_id === res.headers['x-sluice-request-id']), 3000);
      assert.equal(line.recoveries, 1);
      assert.equal(line.error, undefined, 'the client got a whole answer');
    });
  }

  test('an in-band overloaded_error after content is not relayed: the stream is continued', async () => {
    const tag = marker();
    const res = await request(gw.port, streamRequest(tag, { fault: 'error-after-7' }));
    assert.ok(!res.events.some((e) => e.event === 'error'));
    assert.equal(accumulate(res.events).text, reference.text);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);
  });

  test('an upstream that goes silent (idle timeout) is continued', async () => {
    const tag = marker();
    const res = await request(gw.port, streamRequest(tag, { fault: 'stall-after-6' }), { timeoutMs: 10000 });
    assert.equal(accumulate(res.events).text, reference.text);
    assert.equal(res.events.at(-1).event, 'message_stop');
  });

  test('three breaks in a row: three continuations, still one clean stream', async () => {
    const tag = marker();
    const res = await request(gw.port, streamRequest(tag, { fault: 'reset-after-6', times: 3 }));
    assert.equal(accumulate(res.events).text, reference.text);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 4);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^sluice_stream_recoveries_total\{outcome="recovered"\} [1-9]/m);
  });

  test('more breaks than recovery_attempts: the stream ends with an error event, never a clean end', async () => {
    const tag = marker();
    const res = await request(gw.port, streamRequest(tag, { fault: 'reset-after-6', times: 10 }));
    assert.equal(res.events.at(-1).event, 'error');
    assert.ok(!res.events.some((e) => e.event === 'message_stop'));
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 4, '1 + 3 continuations');
  });

  test('a thinking block before the text: the continuation drops thinking and continues the text', async () => {
    const tag = marker();
    const thinking = { thinking: { type: 'enabled', budget_tokens: 1024 } };
    const whole = await request(gw.port, streamRequest(marker(), { body: thinking }));
    const straight = accumulate(whole.events);
    const textStart = whole.events.findIndex((e) => e.event === 'content_block_start' && JSON.parse(e.data).content_block.type === 'text');
    assert.ok(textStart > 2);
    const res = await request(gw.port, streamRequest(tag, { fault: `reset-after-${textStart + 3}`, body: thinking }));
    const got = accumulate(res.events);
    assert.deepEqual(got.blocks.map((b) => b.type), ['thinking', 'text']);
    assert.equal(got.text, straight.text);
    const upstream = await mockRequestsWith(mock, 'x-test-marker', tag);
    assert.equal(upstream.length, 2);
    assert.equal(upstream[1].body.thinking, undefined, 'no thinking in the continuation');
  });
});

describe('when a stream cannot be continued, it ends with an error event', () => {
  test('a tool_use block was open', async () => {
    const tag = marker();
    const tools = [{ name: 'lookup', description: 'look it up', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];
    const body = JSON.stringify({ model: SONNET, max_tokens: 300, stream: true, tools, messages: [{ role: 'user', content: 'lookup the rivers of europe' }] });
    const full = await request(gw.port, { method: 'POST', path: '/v1/messages', headers: { ...API_HEADERS, 'x-test-marker': marker() }, body });
    const toolStart = full.events.findIndex((e) => e.event === 'content_block_start' && JSON.parse(e.data).content_block.type === 'tool_use');
    assert.ok(toolStart > 0, `the mock calls the tool: ${full.status} ${full.text.slice(0, 400)}`);
    const res = await request(gw.port, {
      method: 'POST', path: '/v1/messages', body,
      headers: { ...API_HEADERS, 'x-test-marker': tag, 'x-mock-fault': `reset-after-${toolStart + 2}`, 'x-mock-fail-times': '1', 'x-mock-fault-key': tag },
    });
    assert.equal(res.events.at(-1).event, 'error');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1, 'no continuation');
  });

  test('a model not known to take a prefill', async () => {
    const tag = marker();
    const res = await request(gw.port, streamRequest(tag, { fault: 'reset-after-6', model: 'claude-test-model' }));
    assert.equal(res.events.at(-1).event, 'error');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1);
  });

  test('recovery is off by default', async () => {
    const tag = marker();
    const res = await request(off.port, streamRequest(tag, { fault: 'reset-after-6' }));
    assert.equal(res.events.at(-1).event, 'error');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1);
  });
});
