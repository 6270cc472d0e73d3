// The long-context guard in front of a `sluice mock`: a request that cannot fit its model's
// window is refused with a 400 "prompt is too long" before it leaves (at, just under and just
// over the limit, found exactly through max_tokens); a request that may fit goes up; models
// outside the table are never refused; trimming drops the oldest turns without splitting a
// tool_use from its tool_result and says so in a header; count_tokens is answered locally when
// configured or when the upstream cannot answer.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway } from '../support/harness.mjs';
import { gatewayConfig, postMessages, assertAnthropicError, mockRequests, recordedRequest, request, API_HEADERS } from './helpers.mjs';

const WINDOW = 3000;
const MARGIN = 0.15;
const CONTEXT = `
context:
  margin: ${MARGIN}
  models:
    - model: "tiny-*"
      window: ${WINDOW}
      max_tokens_counts: true
    - model: "stops-*"
      window: ${WINDOW}
      max_tokens_counts: false
`;

let mock;
let gw;      // count_tokens: upstream (the default)
let local;   // count_tokens: local

before(async () => {
  mock = await startMock();
  gw = await startGateway({ config: gatewayConfig({ baseUrl: mock.url, extra: CONTEXT }) });
  local = await startGateway({ config: gatewayConfig({ baseUrl: mock.url, extra: CONTEXT + '  count_tokens: local\n' }) });
});

after(async () => {
  for (const p of [gw, local, mock]) if (p) await p.stop();
});

// Prose of about `words` words, different per `seed`.
function prose(words, seed = 0) {
  const vocab = ['the', 'gateway', 'streams', 'every', 'event', 'to', 'its', 'client', 'while', 'counting',
    'tokens', 'and', 'keeping', 'secrets', 'out', 'of', 'prompts', 'that', 'leave', 'building'];
  const out = [];
  for (let i = 0; i < words; ++i) out.push(vocab[(i * 7 + seed) % vocab.length]);
  return out.join(' ') + '.';
}

function body(model, messages, extra = {}) {
  return JSON.stringify({ model, max_tokens: 100, messages, ...extra });
}

async function countTokens(gateway, messages, headers = {}) {
  return request(gateway.port, {
    method: 'POST', path: '/v1/messages/count_tokens',
    headers: { ...API_HEADERS, ...headers }, body: JSON.stringify({ model: 'tiny-1', messages }),
  });
}

// sluice's own estimate of `messages`, from the gateway that counts locally.
async function estimate(messages) {
  const res = await countTokens(local, messages);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['x-sluice-token-count'], 'estimate');
  return res.json().input_tokens;
}

// A conversation: user, assistant with a tool_use, user with its tool_result, assistant text,
// then plain turns; the last message is a question.
function conversation(turns, wordsPerTurn) {
  const m = [
    { role: 'user', content: prose(wordsPerTurn, 1) },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'read', input: { path: 'src/a.cpp' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a', content: prose(wordsPerTurn, 2) }] },
    { role: 'assistant', content: prose(wordsPerTurn, 3) },
  ];
  for (let t = 0; t < turns; ++t) {
    m.push({ role: 'user', content: prose(wordsPerTurn, 10 + t) });
    m.push({ role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${t}`, name: 'grep', input: { q: `x${t}` } }] });
    m.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${t}`, content: prose(wordsPerTurn, 20 + t) }] });
    m.push({ role: 'assistant', content: prose(wordsPerTurn, 30 + t) });
  }
  m.push({ role: 'user', content: 'And what now?' });
  return m;
}

describe('context guard', () => {
  test('at, just under and just over the limit, found through max_tokens', async () => {
    const messages = [{ role: 'user', content: prose(2750) }];
    const est = await estimate(messages);
    assert.ok(est > WINDOW && est < WINDOW * (1 + MARGIN), `estimate ${est} lies in the margin band`);
    // Refused only when floor(est / (1 + margin)) + max_tokens > window.
    const room = WINDOW - Math.floor(est / (1 + MARGIN));
    for (const [maxTokens, fits] of [[room - 1, true], [room, true], [room + 1, false]]) {
      const before = (await mockRequests(mock)).length;
      const res = await postMessages(gw.port, { body: body('tiny-1', messages, { max_tokens: maxTokens }) });
      if (fits) {
        assert.equal(res.status, 200, `max_tokens ${maxTokens} (room ${room}): ${res.text}`);
      } else {
        const err = assertAnthropicError(res, 400, 'invalid_request_error');
        // The API's own wording for this case, with sluice's estimate: Claude Code answers it by
        // lowering max_tokens.
        assert.equal(err.error.message.split(' (')[0],
          `input length and \`max_tokens\` exceed context limit: ${est} + ${maxTokens} > 3000, decrease input length or \`max_tokens\` and try again`);
        assert.match(err.error.message, /\(sluice's estimate of the input, for tiny-1; .*15% error margin/);
        assert.equal(res.headers['x-should-retry'], 'false');
        assert.equal((await mockRequests(mock)).length, before, 'a refused request never reaches the upstream');
      }
    }
  });

  test('a model that stops at its window is checked on input alone', async () => {
    const small = [{ role: 'user', content: prose(200) }];
    const ok = await postMessages(gw.port, { body: body('stops-1', small, { max_tokens: 128000 }) });
    assert.equal(ok.status, 200, ok.text);  // Claude Code's max_tokens on a short prompt
    const huge = [{ role: 'user', content: prose(4000) }];
    const res = await postMessages(gw.port, { body: body('stops-1', huge, { max_tokens: 1 }) });
    const err = assertAnthropicError(res, 400, 'invalid_request_error');
    // The API's wording, which Claude Code parses for the two numbers.
    const m = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/i.exec(err.error.message);
    assert.ok(m, err.error.message);
    assert.equal(Number(m[1]), await estimate(huge));
    assert.equal(Number(m[2]), 3000);
  });

  test('models outside the table are never refused', async () => {
    const huge = [{ role: 'user', content: prose(4000) }];
    const res = await postMessages(gw.port, { body: body('unlisted-model', huge, { max_tokens: 100000 }) });
    assert.equal(res.status, 200, res.text);
  });

  test('trimming drops the oldest turns and keeps every tool pair whole', async () => {
    const messages = conversation(12, 100);
    const est = await estimate(messages);
    assert.ok(est > WINDOW * 1.3, `conversation estimate ${est} is well over the window`);
    for (const stream of [false, true]) {
      const res = await postMessages(gw.port, {
        body: body('tiny-1', messages, { max_tokens: 200, stream }),
        headers: { 'x-sluice-context-trim': 'true' },
      });
      assert.equal(res.status, 200, res.text);
      const header = res.headers['x-sluice-context-trimmed'];
      const m = /^dropped-messages=(\d+); estimated-input-before=(\d+); estimated-input-after=(\d+); window=3000$/.exec(header || '');
      assert.ok(m, `x-sluice-context-trimmed: ${header}`);
      const dropped = Number(m[1]);
      assert.equal(Number(m[2]), est);
      assert.ok(Number(m[3]) + 200 <= WINDOW);
      const up = (await recordedRequest(mock, res.headers['request-id'])).body;
      assert.equal(up.messages.length, messages.length - dropped);
      // Either the oldest messages went, or the first prompt stayed and the ones after it went.
      const keptPrompt = up.messages[0].content === messages[0].content;
      const expected = keptPrompt ? [messages[0], ...messages.slice(dropped + 1)] : messages.slice(dropped);
      assert.deepEqual(up.messages, expected, 'the kept turns are sent unchanged');
      assert.equal(up.messages[0].role, 'user');
      const uses = new Set(up.messages.flatMap((x) => (Array.isArray(x.content) ? x.content : [])
        .filter((b) => b.type === 'tool_use').map((b) => b.id)));
      for (const x of up.messages) {
        for (const b of Array.isArray(x.content) ? x.content : []) {
          if (b.type === 'tool_result') assert.ok(uses.has(b.tool_use_id), `tool_result ${b.tool_use_id} kept without its tool_use`);
        }
      }
      if (stream) assert.match(res.text, /event: message_stop/);
    }
    // Without the opt-in the same request is refused.
    const refused = await postMessages(gw.port, { body: body('tiny-1', messages, { max_tokens: 200 }) });
    assertAnthropicError(refused, 400, 'invalid_request_error');
  });

  test('count_tokens goes upstream, and is estimated only when the upstream cannot answer', async () => {
    const messages = [{ role: 'user', content: prose(300) }];
    const est = await estimate(messages);
    const up = await countTokens(gw, messages);
    assert.equal(up.status, 200, up.text);
    assert.equal(up.headers['x-sluice-token-count'], undefined, 'the upstream answered');
    assert.ok(up.headers['request-id'], 'the mock answered');
    const down = await countTokens(gw, messages, { 'x-mock-fault': 'status-503' });
    assert.equal(down.status, 200, down.text);
    assert.equal(down.headers['x-sluice-token-count'], 'estimate');
    assert.deepEqual(down.json(), { input_tokens: est });
    // A request the upstream rejects as invalid stays rejected.
    const bad = await countTokens(gw, messages, { 'x-mock-fault': 'status-400' });
    assert.equal(bad.status, 400);
  });

  test('metrics count refusals, trims, local counts and the estimate against real counts', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const value = (re) => Number((re.exec(text) || [])[1] || 0);
    assert.ok(value(/^sluice_context_refusals_total\{rule="tiny-\*"\} (\d+)/m) >= 2, text);
    assert.ok(value(/^sluice_context_trims_total\{rule="tiny-\*"\} (\d+)/m) >= 2);
    assert.ok(value(/^sluice_count_tokens_local_total\{reason="upstream_error"\} (\d+)/m) >= 1);
    assert.ok(value(/^sluice_token_estimate_ratio_count\{model="tiny-1"\} (\d+)/m) >= 3);
  });
});
