// End to end, issue 4's "done when": a team creates two projects with different limits, points
// two Claude Code sessions at sluice with one key each, and reads exact per-project daily
// tokens and cost from `sluice usage` and /metrics. "Exact" is checked independently: every
// request the mock received is sent to the mock again, straight, and the usage it reports (the
// mock is deterministic) is summed per project and priced by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock } from '../support/harness.mjs';
import { runClaude, mockRequests, mockStreamEvents } from './helpers.mjs';
import { startUsageGateway, PROVIDER_KEY, sonnetCostMicros } from '../integration/usage_helpers.mjs';

let mock;
let gw;
const dirs = [];

before(async () => {
  mock = await startMock();
  // Claude Code asks for claude-opus-5-5 by default: priced $5 / $25 per MTok by the built-in table.
  gw = await startUsageGateway(mock.url);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function opusCostMicros(u) {
  const nanos = u.input_tokens * 5000 + u.output_tokens * 25000 + (u.cache_creation_input_tokens || 0) * 6250 +
    (u.cache_read_input_tokens || 0) * 500;
  return Math.floor((nanos + 500) / 1000);
}

function claude(key, prompt) {
  const home = mkdtempSync(join(tmpdir(), 'sluice-cc-home-'));
  dirs.push(home);
  return runClaude(['-p', prompt], {
    cwd: home, home,
    env: { ANTHROPIC_BASE_URL: gw.url, ANTHROPIC_API_KEY: key, CLAUDE_CODE_MAX_RETRIES: '1' },
    timeoutMs: 120000,
  });
}

test('two projects, two Claude Code sessions: exact daily tokens and cost per project', { timeout: 300000 }, async () => {
  for (const [project, rpm] of [['frontend', 100], ['backend', 50]]) {
    const set = gw.cli('projects', 'set', project, '--rpm', String(rpm), '--tpm', '2000000');
    assert.equal(set.code, 0, set.stderr);
  }
  const keys = {};
  for (const project of ['frontend', 'backend']) {
    const r = gw.cli('keys', 'create', '--project', project);
    assert.equal(r.code, 0, r.stderr);
    keys[project] = r.stdout.trim();
  }
  await new Promise((r) => setTimeout(r, 300)); // the gateway's key poll is 50 ms

  const [a, b, c] = await Promise.all([
    claude(keys.frontend, 'say hello from the frontend'),
    claude(keys.backend, 'say hello from the backend'),
    claude(keys.frontend, 'and once more from the frontend'),
  ]);
  for (const r of [a, b, c]) assert.equal(r.code, 0, `claude: ${r.stdout} ${r.stderr}`);
  assert.match(a.stdout, /Hello from sluice mock!/);

  // What the mock received: sluice's provider key, never a sluice key.
  const recorded = (await mockRequests(mock)).filter((r) => r.target.startsWith('/v1/messages'));
  assert.ok(recorded.length >= 3, `${recorded.length} requests`);
  for (const r of recorded) {
    assert.equal(r.headers['x-api-key'], PROVIDER_KEY);
    assert.ok(!JSON.stringify(r.headers).includes('sk-sluice-'));
  }

  // The expected usage per project, from the mock itself.
  const want = { frontend: { input: 0, output: 0, cache_read: 0, cache_creation: 0, cost: 0, requests: 0 },
    backend: { input: 0, output: 0, cache_read: 0, cache_creation: 0, cost: 0, requests: 0 } };
  for (const r of recorded) {
    const prompt = JSON.stringify(r.body.messages);
    const project = prompt.includes('backend') ? 'backend' : 'frontend';
    const events = await mockStreamEvents(mock, r.body);
    const usage = { ...events[0].message.usage, ...events.filter((e) => e.type === 'message_delta').at(-1).usage };
    const w = want[project];
    w.requests += 1;
    w.input += usage.input_tokens;
    w.output += usage.output_tokens;
    w.cache_read += usage.cache_read_input_tokens || 0;
    w.cache_creation += usage.cache_creation_input_tokens || 0;
    w.cost += r.body.model.startsWith('claude-opus-5') ? opusCostMicros(usage) : sonnetCostMicros(usage);
  }

  const today = new Date().toISOString().slice(0, 10);
  const report = gw.cli('usage', '--by', 'day', '--since', today);
  assert.equal(report.code, 0, report.stderr);
  const rows = report.json().data;
  assert.deepEqual(rows.map((x) => x.project).sort(), ['backend', 'frontend']);
  for (const row of rows) {
    const w = want[row.project];
    assert.equal(row.day, today);
    assert.equal(row.requests, w.requests, `${row.project} requests`);
    assert.equal(row.input_tokens, w.input, `${row.project} input`);
    assert.equal(row.output_tokens, w.output, `${row.project} output`);
    assert.equal(row.cache_read_tokens, w.cache_read);
    assert.equal(row.cache_creation_tokens, w.cache_creation);
    assert.equal(row.cost_micros, w.cost, `${row.project} cost`);
    assert.ok(row.cost_micros > 0);
  }

  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  for (const project of ['frontend', 'backend']) {
    const tokens = [...metrics.matchAll(new RegExp(`sluice_tokens_total\\{project="${project}",model="[^"]+",type="(input|output)"\\} (\\d+)`, 'g'))];
    const sum = (type) => tokens.filter((m) => m[1] === type).reduce((s, m) => s + Number(m[2]), 0);
    assert.equal(sum('input'), want[project].input, `${project} input in /metrics`);
    assert.equal(sum('output'), want[project].output, `${project} output in /metrics`);
    const cost = [...metrics.matchAll(new RegExp(`sluice_cost_usd_total\\{project="${project}",model="[^"]+"\\} ([0-9.e-]+)`, 'g'))]
      .reduce((s, m) => s + Number(m[1]), 0);
    assert.ok(Math.abs(cost * 1e6 - want[project].cost) < 1, `${project} cost in /metrics: ${cost}`);
  }
});
