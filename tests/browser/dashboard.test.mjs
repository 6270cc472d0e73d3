// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core
// (pinned in package-lock.json here; no browser is downloaded). A gateway in front of
// `sluice mock` gets two projects' keys, eight days of seeded ledger rows (the seven days before
// today plus today's real requests through the gateway), and the test checks what a person sees:
// sign-in, the charts' series and points and the totals table against figures computed here,
// the project filter, the empty-range message, the live view, creating and revoking a key from
// the page, the alerts and failed-requests tables. Screenshots go to <build>/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { startMock, tempDir, sluiceBin } from '../support/harness.mjs';
import { postMessages, messagesBody } from '../integration/helpers.mjs';
import { startUsageGateway, createKey, ADMIN_KEY, SONNET, sonnetCostMicros } from '../integration/usage_helpers.mjs';
import { seedRows, insertRows, expectedDaily, dayRange, todayStartMs, utcDay, DAY_MS } from '../integration/dashboard_helpers.mjs';

const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';
const artifacts = join(dirname(sluiceBin), 'artifacts');

let mock;
let gw;
let context;
let page;
let profile;
const today = todayStartMs();
const keys = {};
let rows;              // every row the ledger holds for the two projects
const pageErrors = [];  // console errors and uncaught exceptions (a CSP violation shows here)
const urls = [];       // every URL the page requested

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  mock = await startMock();
  gw = await startUsageGateway(mock.url, { yaml: { alerts: { large_request_tokens: 5 } } });
  for (const project of ['frontend', 'backend']) keys[project] = await createKey(gw, project, { rpm: 120, 'budget-usd-day': 25 });
  rows = seedRows(['frontend', 'backend'], 7, { today, keys: { frontend: keys.frontend.id, backend: keys.backend.id } });
  insertRows(gw.dataDir, rows);
  // Today's use goes through the gateway for real; its figures come from the mock's answers.
  for (const [project, prompt] of [['frontend', 'build the login page'], ['frontend', 'and its tests'], ['backend', 'add an index']]) {
    const res = await postMessages(gw.port, { body: messagesBody(prompt, { model: SONNET }), headers: { 'x-api-key': keys[project].key } });
    assert.equal(res.status, 200, res.text);
    const u = res.json().usage;
    rows.push({
      ts_ms: Date.now(), project, status: 200, error: '', input_tokens: u.input_tokens, output_tokens: u.output_tokens,
      cache_creation_tokens: u.cache_creation_input_tokens || 0, cache_read_tokens: u.cache_read_input_tokens || 0,
      cost_micros: sonnetCostMicros(u),
    });
  }
  profile = tempDir('sluice-chromium-');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    timezoneId: 'UTC',
    timeout: 60000,
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  // The wrong-key sign-in's 401 is expected; anything else (a CSP violation included) is not.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('status of 401')) pageErrors.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('request', (r) => urls.push(r.url()));
});

after(async () => {
  if (context) await context.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

const fmtInt = (n) => new Intl.NumberFormat('en-US').format(n);
// The page's money format (web/src/format.js), written out again so a change to it is noticed.
function fmtUsd(micros) {
  const digits = micros >= 10_000_000 || micros % 10_000 === 0 ? 2 : 4;
  return `$${(micros / 1e6).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

// What the page's charts hold: labels and data straight from the uPlot objects.
const chartState = () => page.evaluate(() => Object.fromEntries(Object.entries(window.sluiceDashboard.charts).map(
  ([name, c]) => [name, { labels: c.series.slice(1).map((s) => s.label), xs: Array.from(c.data[0]), ys: c.data.slice(1).map((d) => Array.from(d)) }])));

// The totals table: { project: { requests: n, ..., text: [cell texts] } } from data-value.
const totalsTable = () => page.evaluate(() => {
  const out = {};
  for (const tr of document.querySelectorAll('#usage-totals tbody tr, #usage-totals tfoot tr')) {
    const cells = [...tr.querySelectorAll('td.num')];
    const names = ['requests', 'errors', 'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'cost_micros'];
    out[tr.dataset.project] = Object.fromEntries(names.map((n, i) => [n, Number(cells[i].dataset.value)]));
    out[tr.dataset.project].text = cells.map((c) => c.textContent);
  }
  return out;
});

async function showRange(from, to, project = '') {
  await page.fill('#usage-from', from);
  await page.fill('#usage-to', to);
  await page.selectOption('#usage-project', project);
  const answered = page.waitForResponse((r) => r.url().includes('/admin/usage/daily'));
  await page.click('#usage-filter button[type=submit]');
  await answered;
  await page.waitForFunction(() => !document.getElementById('usage-status').textContent.startsWith('Loading'));
}

test('sign in with the admin key: a wrong key is refused, the right one opens the dashboard', async () => {
  await page.goto(`${gw.url}/admin/dashboard`);
  await page.waitForSelector('#login-form');
  await page.fill('#admin-key', 'not-the-admin-key-0000');
  await page.click('#login-form button');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  assert.match(await page.textContent('#login-error'), /not the admin key/);
  await page.fill('#admin-key', ADMIN_KEY);
  await page.click('#login-form button');
  await page.waitForSelector('#tab-usage:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.adminKey')), ADMIN_KEY);
});

test('daily usage charts: one line per project, the right points, and the right totals', async () => {
  const from = today - 7 * DAY_MS;
  await showRange(utcDay(from), utcDay(today));
  await page.waitForFunction(() => Object.keys(window.sluiceDashboard.charts).length === 3);
  const days = dayRange(from, today);
  const want = expectedDaily(rows, days);
  const charts = await chartState();
  const projects = ['backend', 'frontend'];
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  for (const [name, field] of [['input', 'input_tokens'], ['output', 'output_tokens']]) {
    assert.deepEqual(charts[name].labels, projects, `${name} chart series`);
    assert.deepEqual(charts[name].xs, xs, `${name} chart days`);
    assert.deepEqual(charts[name].ys, projects.map((p) => want.projects[p][field]), `${name} chart points`);
  }
  assert.deepEqual(charts.cost.labels, projects);
  assert.deepEqual(charts.cost.ys, projects.map((p) => want.projects[p].cost_micros.map((c) => c / 1e6)));
  // Every day of the week has use for both projects: 8 points per line, none zero.
  for (const ys of charts.input.ys) assert.ok(ys.length === 8 && ys.every((v) => v > 0));

  const table = await totalsTable();
  for (const p of projects) {
    for (const f of ['requests', 'errors', 'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'cost_micros']) {
      assert.equal(table[p][f], want.projects[p].totals[f], `${p} ${f}`);
    }
    assert.equal(table[p].text[2], fmtInt(want.projects[p].totals.input_tokens), 'shown as a formatted number');
  }
  for (const f of ['requests', 'input_tokens', 'output_tokens', 'cost_micros']) assert.equal(table['*'][f], want.totals[f], `all ${f}`);
  assert.equal(table['*'].text[6], fmtUsd(want.totals.cost_micros));

  // The legend names the projects on screen, and the picture is kept for the docs.
  const legend = await page.$$eval('#chart-input .u-legend .u-series th', (ths) => ths.map((t) => t.textContent.trim()));
  assert.deepEqual(legend.slice(1), projects);
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
});

test('the project filter keeps one line', async () => {
  await showRange(utcDay(today - 7 * DAY_MS), utcDay(today), 'backend');
  const charts = await chartState();
  assert.deepEqual(charts.input.labels, ['backend']);
  const want = expectedDaily(rows, dayRange(today - 7 * DAY_MS, today), ['backend']);
  assert.deepEqual(charts.output.ys, [want.projects.backend.output_tokens]);
  const table = await totalsTable();
  assert.deepEqual(Object.keys(table).sort(), ['*', 'backend']);
  assert.equal(table['*'].input_tokens, want.totals.input_tokens);
});

test('an empty range says so instead of drawing empty charts', async () => {
  await showRange('2020-01-01', '2020-01-07', '');
  assert.ok(await page.isVisible('#usage-empty'), `status: ${await page.textContent('#usage-status')}; empty: ${await page.textContent('#usage-empty')}`);
  assert.match(await page.textContent('#usage-empty'), /No usage recorded from 2020-01-01 to 2020-01-07/);
  assert.ok(await page.isHidden('#usage-charts'));
  assert.equal(await page.evaluate(() => Object.keys(window.sluiceDashboard.charts).length), 0);
});

test('the live view shows this minute\'s requests and the breakers, and refreshes', async () => {
  await page.click('a[data-tab=live]');
  await page.waitForFunction(() => window.sluiceDashboard.live !== null);
  const first = await page.evaluate(() => window.sluiceDashboard.live.ts_ms);
  assert.equal(await page.evaluate(() => window.sluiceDashboard.live.requests), 3);
  assert.match(await page.textContent('#live-errors'), /^0\.0 % \(0 of 3\)$/);
  assert.match(await page.textContent('#live-latency'), /ms|s/);
  assert.equal(await page.textContent('#live-streams'), '0');
  assert.equal(await page.textContent('#live-breakers tbody tr td:nth-child(3)'), 'closed');
  await page.waitForFunction((t) => window.sluiceDashboard.live.ts_ms > t, first, { timeout: 10000 });
  await page.screenshot({ path: join(artifacts, 'dashboard-live.png') });
});

test('keys and limits: create a key from the page, see it work, revoke it from the page', async () => {
  await page.click('a[data-tab=keys]');
  await page.waitForSelector(`tr[data-key="${keys.frontend.id}"]`);
  // The frontend key was used twice today: its spend shows against its daily budget.
  const row = await page.textContent(`tr[data-key="${keys.frontend.id}"]`);
  assert.match(row, /\/ 120/);
  const spent = rows.filter((r) => r.project === 'frontend' && r.ts_ms >= today).reduce((s, r) => s + r.cost_micros, 0);
  assert.ok(spent > 0);
  assert.ok(row.includes(`${fmtUsd(spent)} / $25.00 (left ${fmtUsd(25e6 - spent)})`), row);

  await page.fill('#key-project', 'frontend');
  await page.fill('#key-name', 'made-in-the-browser');
  await page.fill('#key-rpm', '30');
  await page.fill('#key-budget-day', '5');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#key-created:not([hidden])');
  const secret = await page.textContent('#key-secret');
  assert.match(secret, /^sk-sluice-[0-9A-Za-z]{43}$/);
  const created = await page.evaluate(() => window.sluiceDashboard.limits.keys.find((k) => k.name === 'made-in-the-browser'));
  assert.ok(created, 'listed after creation');
  assert.equal(created.limits.rpm, 30);
  assert.equal(created.limits.budget_usd_day, 5);
  const ok = await postMessages(gw.port, { headers: { 'x-api-key': secret } });
  assert.equal(ok.status, 200, 'the new key is accepted at once');
  await page.screenshot({ path: join(artifacts, 'dashboard-keys.png'), fullPage: true });

  page.once('dialog', (d) => d.accept());
  await page.click(`button[data-revoke="${created.id}"]`);
  await page.waitForSelector(`tr[data-key="${created.id}"]`, { state: 'detached' });
  const refused = await postMessages(gw.port, { headers: { 'x-api-key': secret } });
  assert.equal(refused.status, 401, 'the revoked key is refused');
});

test('recent alerts and failed requests, without prompt text', async () => {
  await page.click('a[data-tab=events]');
  await page.waitForSelector('#alerts-table tbody tr');
  const alerts = await page.$$eval('#alerts-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.ok(alerts.length >= 3, 'the large requests of today raised alerts');
  assert.ok(alerts.every((t) => t.includes('large_request')));
  await page.waitForSelector('#failures-table tbody tr');
  const failures = await page.$$eval('#failures-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  const seededFailures = rows.filter((r) => r.status >= 400);
  assert.equal(failures.length, seededFailures.length);
  assert.ok(failures.some((t) => t.includes('429') && t.includes('RateLimited')));
  assert.ok(failures.some((t) => t.includes('502') && t.includes('UpstreamFailed')));
  const text = await page.textContent('body');
  for (const prompt of ['build the login page', 'add an index']) assert.ok(!text.includes(prompt), 'no prompt text on the page');
  await page.screenshot({ path: join(artifacts, 'dashboard-events.png'), fullPage: true });
});

test('the admin key never went into a URL, and the page raised no error', async () => {
  assert.ok(urls.length > 5);
  for (const u of urls) assert.ok(!u.includes(ADMIN_KEY), `key in ${u}`);
  assert.ok(urls.every((u) => u.startsWith(gw.url)), 'nothing fetched from elsewhere (offline, no CDN)');
  assert.deepEqual(pageErrors, []);
  // Signing out forgets the key.
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.adminKey')), null);
});
