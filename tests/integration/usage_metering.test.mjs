// Metering: ledger rows equal the usage the upstream reported (streamed and not, cache tokens
// included) and are priced exactly; broken streams and clients that leave are recorded with
// what was reported plus an estimate, marked as such; `sluice usage` and the admin API agree;
// /metrics is valid for promtool; a large request alerts a local webhook.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { startMock, tempDir, sleep } from '../support/harness.mjs';
import { postMessages, Conn, API_HEADERS, waitFor } from './helpers.mjs';
import { startUsageGateway, createKey, bodyFor, usageReport, sonnetCostMicros, join } from './usage_helpers.mjs';

let mock;
let gw;
let hook; // local webhook receiver
const alerts = [];

before(async () => {
  mock = await startMock();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      alerts.push({ path: req.url, type: req.headers['content-type'], body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  gw = await startUsageGateway(mock.url, {
    // Resumable streams off: a client that leaves cancels the upstream at once, so its row holds
    // what was generated until then (with resume on, the stream runs on for a resume:
    // tests/integration/resume.test.mjs).
    yaml: {
      alerts: { large_request_tokens: 5000, webhook_url: `http://127.0.0.1:${hook.address().port}/hooks/sluice` },
      streams: { resume: false },
    },
    provider: { retry: { max_attempts: 2, base_ms: 10 } },
  });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
  if (hook) await new Promise((r) => hook.close(r));
});

// The final usage of a streamed answer: message_start's overlaid with the last message_delta's.
function streamedUsage(res) {
  const start = JSON.parse(res.events.find((e) => e.event === 'message_start').data).message.usage;
  const deltas = res.events.filter((e) => e.event === 'message_delta');
  return { ...start, ...JSON.parse(deltas.at(-1).data).usage };
}

function sumUsage(list) {
  const s = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cost: 0 };
  for (const u of list) {
    s.input_tokens += u.input_tokens;
    s.output_tokens += u.output_tokens;
    s.cache_creation_input_tokens += u.cache_creation_input_tokens || 0;
    s.cache_read_input_tokens += u.cache_read_input_tokens || 0;
    s.cost += sonnetCostMicros(u);
  }
  return s;
}

describe('exact metering', () => {
  let key;
  const seen = [];

  test('streamed and non-streamed answers with cache tokens are recorded exactly as reported', async () => {
    key = await createKey(gw, 'meter');
    const cache = { 'x-mock-cache-read-tokens': '1200', 'x-mock-cache-creation-tokens': '300' };
    for (const stream of [false, true]) {
      for (const prompt of ['one two three', 'a longer prompt with quite a few more words in it']) {
        const res = await postMessages(gw.port, { headers: { 'x-api-key': key.key, ...cache }, body: bodyFor(prompt, { stream }) });
        assert.equal(res.status, 200, res.text);
        const u = stream ? streamedUsage(res) : res.json().usage;
        assert.equal(u.cache_read_input_tokens, 1200);
        assert.equal(u.cache_creation_input_tokens, 300);
        seen.push(u);
      }
    }
    const want = sumUsage(seen);
    const report = await usageReport(gw, `key=${key.id}&by=key`);
    assert.equal(report.data.length, 1);
    const row = report.data[0];
    assert.equal(row.project, 'meter');
    assert.equal(row.requests, 4);
    assert.equal(row.errors, 0);
    assert.equal(row.input_tokens, want.input_tokens);
    assert.equal(row.output_tokens, want.output_tokens);
    assert.equal(row.cache_read_tokens, want.cache_read_input_tokens);
    assert.equal(row.cache_creation_tokens, want.cache_creation_input_tokens);
    assert.equal(row.cost_micros, want.cost, 'priced per token type, cache reads and writes apart');
    assert.equal(row.estimated, 0);
  });

  test('`sluice usage` prints the same figures as the admin API', async () => {
    const cli = gw.cli('usage', '--project', 'meter', '--by', 'model');
    assert.equal(cli.code, 0, cli.stderr);
    const fromCli = cli.json();
    const fromApi = await usageReport(gw, 'project=meter&by=model');
    assert.deepEqual(fromCli.data, fromApi.data);
    assert.equal(fromCli.data[0].model, 'claude-sonnet-4-5');
    assert.equal(fromCli.totals.requests, 4);
  });

  test('a broken stream records the reported input and an estimated output', async () => {
    const k = await createKey(gw, 'broken');
    const res = await postMessages(gw.port, {
      headers: { 'x-api-key': k.key, 'x-mock-fault': 'reset-after-6' },
      body: bodyFor('please say a lot of words here', { stream: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.events.at(-1).event, 'error', 'the client learns the stream broke');
    const start = JSON.parse(res.events.find((e) => e.event === 'message_start').data).message.usage;
    const row = (await usageReport(gw, `key=${k.id}&by=key`)).data[0];
    assert.equal(row.requests, 1);
    assert.equal(row.errors, 1);
    assert.equal(row.estimated, 1, 'marked as estimated');
    assert.equal(row.input_tokens, start.input_tokens);
    assert.ok(row.output_tokens >= 1, `output estimated from delivered text: ${row.output_tokens}`);
  });

  test('a client that leaves mid-stream still gets a row, estimated', async () => {
    const k = await createKey(gw, 'leaver');
    const conn = await Conn.open(gw.port);
    await conn.send({
      method: 'POST', path: '/v1/messages',
      headers: { ...API_HEADERS, 'x-api-key': k.key, 'x-mock-tokens-per-second': '10' },
      body: bodyFor('one two three four five six seven eight nine ten', { stream: true }),
    });
    let deltas = 0;
    const reading = conn.readResponse({ timeoutMs: 3000, onEvent: (e) => { if (e.event === 'content_block_delta') deltas++; } });
    assert.ok(await waitFor(() => deltas >= 2, 5000, 10));
    conn.close();
    await reading.catch(() => {});
    const ok = await waitFor(async () => (await usageReport(gw, `key=${k.id}&by=key`)).data.length === 1, 5000);
    assert.ok(ok, 'the row was written');
    const row = (await usageReport(gw, `key=${k.id}&by=key`)).data[0];
    assert.equal(row.estimated, 1);
    assert.ok(row.output_tokens >= 1);
    assert.ok(row.input_tokens > 0);
  });
});

describe('metrics and alerts', () => {
  test('/metrics is valid exposition (promtool) with per-project requests, tokens and cost', async () => {
    // One request that succeeds on its second attempt, for the attempt and retry counters.
    const k = await createKey(gw, 'retrier');
    const retried = await postMessages(gw.port, {
      headers: { 'x-api-key': k.key, 'x-mock-fault': 'status-529', 'x-mock-fail-times': '1', 'x-mock-fault-key': `metrics-${process.pid}` },
      body: bodyFor('retry me'),
    });
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.headers['x-sluice-attempts'], '2');
    const r = await fetch(`${gw.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const file = join(tempDir('sluice-metrics-'), 'metrics.txt');
    writeFileSync(file, text);
    const check = spawnSync('sh', ['-c', `promtool check metrics < ${file}`], { encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    assert.equal((check.stdout + check.stderr).trim(), '', 'no lint warnings');
    assert.match(text, /sluice_requests_total\{route="\/v1\/messages",status="200",model="claude-sonnet-4-5",project="meter"\} 4/);
    for (const le of ['100', '1000', '10000']) {
      assert.match(text, new RegExp(`sluice_tokens_per_request_bucket\\{project_id="meter",type="cache_read",le="${le}"\\} \\d+`));
    }
    assert.match(text, /sluice_tokens_total\{project="meter",model="claude-sonnet-4-5",type="cache_read"\} 4800/);
    assert.match(text, /sluice_cost_usd_total\{project="meter",model="claude-sonnet-4-5"\} 0\.\d+/);
    assert.match(text, /sluice_ratelimit_rejections_total|# TYPE sluice_ratelimit_rejections_total counter/);
    assert.match(text, /sluice_request_duration_seconds_bucket\{route="\/v1\/messages",le="0\.005"\}/);
    assert.match(text, /sluice_gateway_overhead_seconds_count\{route="\/v1\/messages"\} \d+/);
    assert.match(text, /sluice_breaker_state\{provider="test",deployment="[^"]+"\} 0/);
    assert.match(text, /sluice_usage_estimated_total\{project="broken"\} 1/);
    assert.match(text, /sluice_ledger_rows_total\{state="written"\} \d+/);
    assert.match(text, /sluice_upstream_attempts_total\{provider="test",outcome="status_5xx"\} 1\n/);
    assert.match(text, /sluice_upstream_attempts_total\{provider="test",outcome="success"\} \d+/);
    assert.match(text, /sluice_upstream_attempts_total\{provider="test",outcome="stream_broken"\} 1\n/);
    assert.match(text, /sluice_upstream_attempts_total\{provider="test",outcome="cancelled"\} 1\n/);
    assert.match(text, /sluice_upstream_retries_total\{provider="test"\} 1\n/);
  });

  test('a request over the token threshold is POSTed to the webhook, without prompt text', async () => {
    const k = await createKey(gw, 'whale');
    const res = await postMessages(gw.port, {
      headers: { 'x-api-key': k.key, 'x-mock-cache-read-tokens': '9000' },
      body: bodyFor('TOP-SECRET-PROMPT-TEXT please'),
    });
    assert.equal(res.status, 200);
    assert.ok(await waitFor(() => alerts.some((a) => JSON.parse(a.body).project === 'whale'), 5000), 'alert delivered');
    const a = alerts.find((x) => JSON.parse(x.body).project === 'whale');
    assert.equal(a.path, '/hooks/sluice');
    assert.match(a.type, /^application\/json/);
    const body = JSON.parse(a.body);
    assert.equal(body.kind, 'large_request');
    assert.equal(body.key_id, k.id);
    assert.ok(body.tokens > 9000);
    assert.equal(body.threshold, 5000);
    assert.ok(!a.body.includes('TOP-SECRET'), 'no prompt text in alerts');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /sluice_alerts_total\{kind="large_request"\} [1-9]/);
    assert.match(gw.stderr(), /"event":"alert"/);
  });
});
