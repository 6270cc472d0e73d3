// Secret redaction in front of a `sluice mock`: secrets in the system prompt, text blocks and
// tool results are replaced before the request leaves; a request without secrets is forwarded
// byte for byte; block mode refuses with a 400 naming the type, never the secret; actions can
// differ per project; counts land in /metrics and the ledger.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock } from '../support/harness.mjs';
import { postMessages, assertAnthropicError, recordedRequest, mockRequests } from './helpers.mjs';
import { startUsageGateway, createKey, join } from './usage_helpers.mjs';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const GITHUB = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Ycn9xKjYH0f3qWx8vTzq1lS0aT9\nkq8wB1nQ7fV2xR9oY4eU6tP0mL3jH5gC8dS1aZ2xW4vE7nK9bQ0cF6hJ3iG5rT8u\n-----END RSA PRIVATE KEY-----';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url, {
    yaml: { redaction: { rules: { jwt: 'block' }, projects: { ci: { github_token: 'log' } } } },
  });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

function body(extra) {
  return JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, ...extra });
}

describe('redaction', () => {
  test('secrets in system, text blocks and tool results never reach the provider', async () => {
    const sent = body({
      system: [{ type: 'text', text: `deploy with ${AWS} please` }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: `token ${GITHUB} and key\n${PEM}\nthanks` }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'ok', signature: 'c2lnbmF0dXJlLXVudG91Y2hlZA==' }, { type: 'tool_use', id: 'toolu_1', name: 'read', input: { path: '.env' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: `AWS_KEY=${AWS}` }] },
      ],
    });
    const res = await postMessages(gw.port, { body: sent });
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    const up = JSON.stringify(rec.body);
    for (const secret of [AWS, GITHUB, 'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Ycn9xKjYH0f3qWx8vTzq1lS0aT9']) {
      assert.ok(!up.includes(secret), `${secret.slice(0, 8)}… reached the provider: ${up}`);
    }
    assert.match(up, /\[REDACTED:aws_access_key\]/);
    assert.match(up, /\[REDACTED:github_token\]/);
    assert.match(up, /\[REDACTED:private_key\]/);
    // Everything else is carried over: the thinking block's signature, the tool_use input.
    assert.equal(rec.body.messages[1].content[0].signature, 'c2lnbmF0dXJlLXVudG91Y2hlZA==');
    assert.deepEqual(rec.body.messages[1].content[1].input, { path: '.env' });
    assert.equal(rec.body.messages[0].content[0].text.endsWith('thanks'), true);
  });

  test('a streamed reply still streams, from a redacted request', async () => {
    const res = await postMessages(gw.port, {
      body: body({ stream: true, messages: [{ role: 'user', content: `aws ${AWS} here` }] }),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.events[0].event, 'message_start');
    assert.equal(res.events.at(-1).event, 'message_stop');
    const text = res.events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('');
    assert.match(text, /\[REDACTED:aws_access_key\] here/, 'the mock echoes the redacted prompt');
    assert.ok(!text.includes(AWS));
  });

  test('a request without secrets is forwarded byte for byte', async () => {
    const sent = '{"model":"claude-sonnet-4-5",  "max_tokens":64,"temperature":0.70,"messages":[{"role":"user","content":"see commit 3f786850e387550fdab836ed7e6dc881de23001b and uuid 123e4567-e89b-12d3-a456-426614174000 at https://example.com/docs?page=2"}]}';
    const res = await postMessages(gw.port, { body: sent });
    assert.equal(res.status, 200, res.text);
    const all = await mockRequests(mock);
    const rec = all.find((r) => r.request_id === res.headers['request-id']);
    assert.equal(rec.headers['content-length'], String(Buffer.byteLength(sent)));
    assert.equal(rec.body.temperature, 0.7);
    assert.match(rec.body.messages[0].content, /3f786850e387550fdab836ed7e6dc881de23001b/);
  });

  test('count_tokens carries the same prompt, and is redacted the same way', async () => {
    const sent = JSON.stringify({ model: 'claude-sonnet-4-5', system: `key ${AWS}`, messages: [{ role: 'user', content: `token ${GITHUB}` }] });
    const res = await postMessages(gw.port, { body: sent, path: '/v1/messages/count_tokens' });
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.json().input_tokens, 'number');
    const up = JSON.stringify((await recordedRequest(mock, res.headers['request-id'])).body);
    assert.ok(!up.includes(AWS) && !up.includes(GITHUB), up);
    assert.match(up, /\[REDACTED:aws_access_key\]/);
  });

  test('block mode refuses with a 400 naming the type, never the secret', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    const before = (await mockRequests(mock)).length;
    const res = await postMessages(gw.port, { body: body({ messages: [{ role: 'user', content: `use ${jwt}` }] }) });
    const err = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.match(err.error.message, /secret \(jwt\)/);
    assert.ok(!res.text.includes(jwt.slice(0, 30)));
    assert.equal((await mockRequests(mock)).length, before, 'nothing went upstream');
  });

  test('a project can log a type that others redact; counts reach /metrics and the ledger', async () => {
    const ci = await createKey(gw, 'ci');
    const web = await createKey(gw, 'web');
    const msg = body({ messages: [{ role: 'user', content: `push with ${GITHUB}` }] });
    const logged = await postMessages(gw.port, { headers: { 'x-api-key': ci.key }, body: msg });
    assert.equal(logged.status, 200);
    assert.match(JSON.stringify((await recordedRequest(mock, logged.headers['request-id'])).body), new RegExp(GITHUB));
    const redacted = await postMessages(gw.port, { headers: { 'x-api-key': web.key }, body: msg });
    assert.equal(redacted.status, 200);
    assert.ok(!JSON.stringify((await recordedRequest(mock, redacted.headers['request-id'])).body).includes(GITHUB));

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /sluice_redactions_total\{type="github_token"\} [3-9]/);
    assert.match(metrics, /sluice_redaction_blocks_total\{type="jwt"\} 1/);
    assert.ok(!metrics.includes(GITHUB) && !metrics.includes(AWS));
    // The ledger row counts the findings; nothing in the data directory holds a secret.
    await gw.admin('GET', '/admin/usage'); // flushes the ledger
    const q = spawnSync('sqlite3', [join(gw.dataDir, 'sluice.db'),
      `SELECT redactions, redaction_types FROM requests WHERE request_id = '${redacted.headers['x-sluice-request-id']}'`], { encoding: 'utf8' });
    assert.equal(q.stdout.trim(), '1|github_token:1', q.stderr);
    assert.ok(!gw.stderr().includes(GITHUB), 'no secret in the logs');
  });
});
