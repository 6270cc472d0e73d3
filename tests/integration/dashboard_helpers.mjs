// Seeded ledger data for the dashboard tests (tests/integration/dashboard_api.test.mjs and
// tests/browser/dashboard.test.mjs). Rows are written with the sqlite3 CLI straight into the
// gateway's ledger (the `requests` table, docs/dashboard.md shows the same SQL), because the
// gateway stamps the rows it writes with the current time and a chart needs past days. The
// expected figures are computed here from the rows, independently of sluice. Not a test file.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { join } from 'node:path';

export const DAY_MS = 86_400_000;

export const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
export const todayStartMs = () => { const n = Date.now(); return n - (n % DAY_MS); };

// Deterministic rows for `projects` over the `days` UTC days before today (today excluded):
// two to four requests per project and day, token counts and costs that differ per project and
// day, and one failed request (429 or 502) every other day. Each row is a ledger row object.
export function seedRows(projects, days, { keys = {}, today = todayStartMs() } = {}) {
  const rows = [];
  let n = 0;
  projects.forEach((project, p) => {
    for (let d = days; d >= 1; d--) {
      const dayStart = today - d * DAY_MS;
      const count = 2 + ((d + p) % 3);
      for (let i = 0; i < count; i++) {
        n++;
        const input = 1000 * (p + 1) + 137 * d + 11 * i;
        const output = 200 * (p + 1) + 53 * d + 7 * i;
        rows.push({
          ts_ms: dayStart + 3_600_000 * (1 + 2 * i) + 1000 * p,
          request_id: `req_seed_${project}_${d}_${i}`,
          project,
          key_id: keys[project] || `key_seed_${project}`,
          model: p % 2 ? 'claude-haiku-4-5' : 'claude-sonnet-4-5',
          provider: 'anthropic#0',
          route: '/v1/messages',
          status: 200,
          stream: i % 2,
          attempts: 1,
          input_tokens: input,
          output_tokens: output,
          cache_creation_tokens: d === 2 ? 500 + p : 0,
          cache_read_tokens: 40 * d + p,
          server_tool_uses: 0,
          cost_micros: input * 3 + output * 15 + d * 7 + p,
          latency_ms: 800 + 10 * i,
          ttft_ms: 120 + i,
          estimated: 0,
          redactions: 0,
          redaction_types: '',
          error: '',
        });
      }
      if (d % 2 === 0) {
        rows.push({
          ts_ms: dayStart + 20 * 3_600_000 + p,
          request_id: `req_seed_failed_${project}_${d}`,
          project,
          key_id: keys[project] || `key_seed_${project}`,
          model: 'claude-sonnet-4-5',
          provider: 'anthropic#0',
          route: '/v1/messages',
          status: p % 2 ? 502 : 429,
          stream: 0,
          attempts: p % 2 ? 3 : 1,
          input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0, server_tool_uses: 0,
          cost_micros: 0,
          latency_ms: 30,
          ttft_ms: null,
          estimated: 0,
          redactions: 0,
          redaction_types: '',
          error: p % 2 ? 'UpstreamFailed' : 'RateLimited',
        });
      }
    }
  });
  return rows;
}

const COLUMNS = ['ts_ms', 'request_id', 'project', 'key_id', 'model', 'provider', 'route', 'status', 'stream', 'attempts',
  'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'server_tool_uses', 'cost_micros',
  'latency_ms', 'ttft_ms', 'estimated', 'redactions', 'redaction_types', 'error'];

const sqlValue = (v) => (v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);

// Inserts `rows` into the ledger of a running (or stopped) gateway, in one transaction.
export function insertRows(dataDir, rows) {
  const sql = ['.timeout 10000', 'BEGIN IMMEDIATE;'];
  for (const r of rows) {
    sql.push(`INSERT INTO requests(${COLUMNS.join(',')}) VALUES(${COLUMNS.map((c) => sqlValue(r[c])).join(',')});`);
  }
  sql.push('COMMIT;');
  const res = spawnSync('sqlite3', [join(dataDir, 'sluice.db')], { input: sql.join('\n'), encoding: 'utf8', timeout: 20000 });
  assert.equal(res.status, 0, `sqlite3 failed: ${res.stderr}`);
}

const FIELDS = ['requests', 'errors', 'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'cost_micros'];

const emptySums = () => Object.fromEntries(FIELDS.map((f) => [f, 0]));

function addRow(sums, r) {
  sums.requests += 1;
  sums.errors += r.status >= 400 || r.error ? 1 : 0;
  for (const f of FIELDS.slice(2)) sums[f] += r[f];
}

// What GET /admin/usage/daily must answer for `rows` over the UTC days `days` (["YYYY-MM-DD"]):
// { days, projects: { name: { input_tokens: [...], ..., totals } }, totals }.
export function expectedDaily(rows, days, projectFilter = null) {
  const projects = {};
  const totals = emptySums();
  for (const r of rows) {
    if (projectFilter && !projectFilter.includes(r.project)) continue;
    const i = days.indexOf(utcDay(r.ts_ms));
    if (i < 0) continue;
    const p = (projects[r.project] ||= {
      ...Object.fromEntries(FIELDS.map((f) => [f, new Array(days.length).fill(0)])),
      totals: emptySums(),
    });
    const one = emptySums();
    addRow(one, r);
    for (const f of FIELDS) p[f][i] += one[f];
    addRow(p.totals, r);
    addRow(totals, r);
  }
  return { days, projects, totals };
}

// The UTC days from `fromMs` to `toMs` (both included), as "YYYY-MM-DD".
export function dayRange(fromMs, toMs) {
  const out = [];
  for (let t = fromMs; t <= toMs; t += DAY_MS) out.push(utcDay(t));
  return out;
}
