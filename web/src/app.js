// The sluice dashboard: one page with four tabs over the admin API (docs/admin-api.md).
// The admin key is asked for once per browser tab, kept in sessionStorage and sent as the
// x-api-key header of every call; it never appears in a URL. Everything shown is built with
// DOM nodes and textContent (never innerHTML), so names and messages cannot inject markup.
// window.sluiceDashboard exposes the data and the uPlot charts, for tests and the curious.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { fmtInt, fmtUsd, fmtMs, fmtTime, fmtRate, todayUtc, addDays, dayToUnix } from './format.js';
import { el, clear, setRows } from './dom.js';

const KEY_STORAGE = 'sluice.adminKey';
const LIVE_EVERY_MS = 3000;
const COLORS = ['#2457c5', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d'];

const state = {
  key: sessionStorage.getItem(KEY_STORAGE) || '',
  tab: null,
  liveTimer: null,
  usage: null,      // the last GET /admin/usage/daily answer
  charts: {},       // uPlot instances: input, output, cost
  limits: null,     // the last GET /admin/limits answer
  live: null,       // the last GET /admin/live answer
};
window.sluiceDashboard = state;

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// One admin API call; throws ApiError with the API's own message.
async function api(method, path, body) {
  const headers = { 'x-api-key': state.key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    if (res.status === 401) signOut('The admin key was refused: sign in again.');
    throw new ApiError(res.status, json?.error?.message || text || res.statusText);
  }
  return json;
}

// ---- sign in / out -------------------------------------------------------------------------

function signOut(message = '') {
  state.key = '';
  sessionStorage.removeItem(KEY_STORAGE);
  stopLive();
  for (const s of document.querySelectorAll('.tab')) s.hidden = true;
  $('tabs').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('admin-key').value = '';
}

async function signIn(key) {
  state.key = key;
  try {
    await api('GET', '/admin/live?window=60');
  } catch (e) {
    state.key = '';
    $('login-error').textContent = e.status === 401 ? 'That is not the admin key.' : `Cannot sign in: ${e.message}`;
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $('login').hidden = true;
  $('tabs').hidden = false;
  $('logout').hidden = false;
  $('login-error').textContent = '';
  showTab(location.hash.slice(1));
}

// ---- tabs ----------------------------------------------------------------------------------

const TABS = { usage: loadUsage, live: startLive, keys: loadKeys, events: loadEvents };

function showTab(name) {
  if (!TABS[name]) name = 'usage';
  state.tab = name;
  stopLive();
  for (const [t] of Object.entries(TABS)) $(`tab-${t}`).hidden = t !== name;
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === name);
  TABS[name]();
}

// ---- usage & cost --------------------------------------------------------------------------

function usageQuery() {
  const p = new URLSearchParams({ from: $('usage-from').value, to: $('usage-to').value });
  if ($('usage-project').value) p.set('project', $('usage-project').value);
  return p;
}

async function loadUsage() {
  if (!$('usage-to').value) {
    $('usage-to').value = todayUtc();
    $('usage-from').value = addDays(todayUtc(), -6);
  }
  $('usage-status').textContent = 'Loading…';
  let data;
  try {
    data = await api('GET', `/admin/usage/daily?${usageQuery()}`);
  } catch (e) {
    $('usage-status').textContent = '';
    showUsageEmpty(`Cannot load usage: ${e.message}`);
    return;
  }
  state.usage = data;
  $('usage-status').textContent = `${data.from} to ${data.to} (UTC days)`;
  fillProjectChoices(data.available_projects);
  renderTotals(data);
  if (data.totals.requests === 0) {
    const which = data.filter.length ? ` for ${data.filter.join(', ')}` : '';
    showUsageEmpty(`No usage recorded from ${data.from} to ${data.to}${which}. ` +
      'Requests through the gateway appear here once they are answered; widen the date range to see older use.');
    return;
  }
  $('usage-empty').hidden = true;
  $('usage-charts').hidden = false;
  drawCharts(data);
}

function showUsageEmpty(message) {
  $('usage-empty').textContent = message;
  $('usage-empty').hidden = false;
  $('usage-charts').hidden = true;
  destroyCharts();
}

function fillProjectChoices(projects) {
  const select = $('usage-project');
  const chosen = select.value;
  clear(select);
  select.append(el('option', { value: '' }, 'All projects'));
  for (const p of projects) select.append(el('option', { value: p }, p || '(no key)'));
  select.value = projects.includes(chosen) ? chosen : '';
}

function destroyCharts() {
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
}

function drawCharts(data) {
  destroyCharts();
  const xs = data.days.map(dayToUnix);
  const specs = [
    ['input', 'chart-input', 'input_tokens', fmtInt],
    ['output', 'chart-output', 'output_tokens', fmtInt],
    ['cost', 'chart-cost', 'cost_usd', (v) => fmtUsd(Math.round(v * 1e6))],
  ];
  for (const [name, id, field, fmt] of specs) {
    const box = $(id);
    clear(box);
    const opts = {
      width: Math.max(300, box.clientWidth),
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: 'Day', value: (u, ts) => (ts == null ? '–' : new Date(ts * 1e3).toISOString().slice(0, 10)) },
        ...data.projects.map((p, i) => ({
          label: p.project || '(no key)',
          stroke: COLORS[i % COLORS.length],
          width: 2,
          points: { show: true, size: 6 },
          value: (u, v) => (v == null ? '–' : fmt(v)),
        })),
      ],
      axes: [
        { values: (u, ticks) => ticks.map((t) => new Date(t * 1e3).toISOString().slice(5, 10)) },
        { size: 70, values: (u, ticks) => ticks.map((t) => fmt(t)) },
      ],
    };
    const chart = new uPlot(opts, [xs, ...data.projects.map((p) => p[field])], box);
    box.dataset.series = JSON.stringify(data.projects.map((p) => p.project));
    state.charts[name] = chart;
  }
}

function totalsCells(t) {
  return [
    [fmtInt(t.requests), t.requests], [fmtInt(t.errors), t.errors],
    [fmtInt(t.input_tokens), t.input_tokens], [fmtInt(t.output_tokens), t.output_tokens],
    [fmtInt(t.cache_creation_tokens), t.cache_creation_tokens], [fmtInt(t.cache_read_tokens), t.cache_read_tokens],
    [fmtUsd(t.cost_micros), t.cost_micros],
  ].map(([text, value]) => el('td', { class: 'num', 'data-value': String(value) }, text));
}

function renderTotals(data) {
  setRows($('usage-totals').tBodies[0], data.projects.map((p) =>
    el('tr', { 'data-project': p.project }, el('td', {}, p.project || '(no key)'), ...totalsCells(p.totals))));
  const foot = $('usage-totals').tFoot;
  clear(foot);
  foot.append(el('tr', { 'data-project': '*' }, el('td', {}, 'All'), ...totalsCells(data.totals)));
}

window.addEventListener('resize', () => {
  for (const [name, c] of Object.entries(state.charts)) {
    const box = $(`chart-${name}`);
    if (box.clientWidth > 0) c.setSize({ width: Math.max(300, box.clientWidth), height: 240 });  // 0 while its tab is hidden
  }
});

// ---- live ----------------------------------------------------------------------------------

function stopLive() {
  if (state.liveTimer) clearInterval(state.liveTimer);
  state.liveTimer = null;
}

function startLive() {
  refreshLive();
  state.liveTimer = setInterval(refreshLive, LIVE_EVERY_MS);
}

async function refreshLive() {
  let d;
  try {
    d = await api('GET', '/admin/live?window=60');
  } catch (e) {
    $('live-updated').textContent = `Update failed: ${e.message}`;
    return;
  }
  state.live = d;
  $('live-window').textContent = String(d.window_s);
  $('live-updated').textContent = `Updated ${fmtTime(d.ts_ms)} UTC.`;
  $('live-rps').textContent = d.requests_per_second.toFixed(2);
  $('live-errors').textContent = `${fmtRate(d.error_rate)} (${fmtInt(d.errors)} of ${fmtInt(d.requests)})`;
  $('live-latency').textContent = `${fmtMs(d.latency_ms.p50)} / ${fmtMs(d.latency_ms.p99)}`;
  $('live-ttft').textContent = `${fmtMs(d.ttft_ms.p50)} / ${fmtMs(d.ttft_ms.p99)}`;
  $('live-streams').textContent = fmtInt(d.active_streams);
  $('live-status').textContent = d.status;
  $('live-status').className = `value state-${d.status}`;
  const rows = [];
  for (const p of d.providers) {
    for (const dep of p.deployments) {
      rows.push(el('tr', {}, el('td', {}, p.name), el('td', {}, dep.deployment),
        el('td', { class: `state-${dep.breaker}` }, dep.breaker), el('td', { class: 'num' }, fmtInt(dep.outstanding))));
    }
  }
  setRows($('live-breakers').tBodies[0], rows);
}

// ---- keys & limits -------------------------------------------------------------------------

function rateCell(use, fmt = fmtInt) {
  if (!use) return el('td', { class: 'muted' }, 'unlimited');
  const share = use.limit > 0 ? Math.min(1, use.used / use.limit) : 1;
  const fill = el('i');
  fill.style.width = `${Math.round(share * 100)}%`;  // CSSOM, allowed by the page's CSP (a style attribute is not)
  const bar = el('span', { class: share >= 1 ? 'bar full' : 'bar' }, fill);
  return el('td', {}, `${fmt(Math.round(use.used))} / ${fmt(use.limit)}`, bar);
}

function concurrencyCell(use) {
  if (!use) return el('td', { class: 'muted' }, 'unlimited');
  return el('td', {}, `${use.in_flight} / ${use.limit}`);
}

function budgetCell(b) {
  const spent = fmtUsd(Math.round(b.spent_usd * 1e6));
  if (b.limit_usd == null) return el('td', {}, `${spent} / no budget`);
  return el('td', {}, `${spent} / ${fmtUsd(Math.round(b.limit_usd * 1e6))} (left ${fmtUsd(Math.round(b.left_usd * 1e6))})`);
}

async function loadKeys() {
  let d;
  try {
    d = await api('GET', '/admin/limits');
  } catch (e) {
    $('key-error').textContent = `Cannot load keys: ${e.message}`;
    return;
  }
  state.limits = d;
  $('keys-empty').hidden = d.keys.length > 0;
  setRows($('keys-table').tBodies[0], d.keys.map((k) => {
    const revoke = el('button', { type: 'button', class: 'danger', 'data-revoke': k.id }, 'Revoke');
    revoke.addEventListener('click', () => revokeKey(k));
    return el('tr', { 'data-key': k.id },
      el('td', {}, el('code', {}, k.id), el('div', { class: 'muted' }, k.hint)),
      el('td', {}, k.project), el('td', {}, k.name || '–'),
      rateCell(k.usage.rpm), rateCell(k.usage.tpm), concurrencyCell(k.usage.concurrency),
      budgetCell(k.usage.budget_day), budgetCell(k.usage.budget_month), el('td', {}, revoke));
  }));
  setRows($('projects-table').tBodies[0], d.projects.map((p) => el('tr', { 'data-project': p.name },
    el('td', {}, p.name), rateCell(p.usage.rpm), rateCell(p.usage.tpm), concurrencyCell(p.usage.concurrency),
    budgetCell(p.usage.budget_day), budgetCell(p.usage.budget_month))));
}

function numberField(id) {
  const v = $(id).value.trim();
  return v === '' ? undefined : Number(v);
}

async function createKey(ev) {
  ev.preventDefault();
  $('key-error').textContent = '';
  $('key-created').hidden = true;
  const body = { project: $('key-project').value.trim() };
  if ($('key-name').value.trim()) body.name = $('key-name').value.trim();
  for (const [field, id] of [['rpm', 'key-rpm'], ['tpm', 'key-tpm'], ['concurrency', 'key-concurrency'],
    ['budget_usd_day', 'key-budget-day'], ['budget_usd_month', 'key-budget-month']]) {
    const v = numberField(id);
    if (v !== undefined) body[field] = v;
  }
  let created;
  try {
    created = await api('POST', '/admin/keys', body);
  } catch (e) {
    $('key-error').textContent = `Not created: ${e.message}`;
    return;
  }
  const notice = $('key-created');
  clear(notice);
  notice.append(`New key ${created.id} for project ${created.project} — copy it now, it is not shown again: `,
    el('code', { id: 'key-secret' }, created.key));
  notice.hidden = false;
  $('key-form').reset();
  await loadKeys();
}

async function revokeKey(k) {
  if (!window.confirm(`Revoke ${k.id} (${k.project}${k.name ? `, ${k.name}` : ''})? Requests with it will get 401.`)) return;
  try {
    await api('DELETE', `/admin/keys/${encodeURIComponent(k.id)}`);
  } catch (e) {
    $('key-error').textContent = `Not revoked: ${e.message}`;
    return;
  }
  await loadKeys();
}

// ---- alerts & failures ---------------------------------------------------------------------

async function loadEvents() {
  let alerts;
  let failures;
  try {
    [alerts, failures] = await Promise.all([api('GET', '/admin/alerts?limit=50'), api('GET', '/admin/requests/failed?limit=50')]);
  } catch (e) {
    $('alerts-empty').textContent = `Cannot load: ${e.message}`;
    $('alerts-empty').hidden = false;
    return;
  }
  $('alerts-empty').hidden = alerts.data.length > 0;
  setRows($('alerts-table').tBodies[0], alerts.data.map((a) => el('tr', {},
    el('td', {}, fmtTime(a.ts_ms)), el('td', {}, a.kind), el('td', {}, a.project || '–'), el('td', {}, a.key_id || '–'),
    el('td', { class: 'num' }, fmtInt(a.tokens)), el('td', { class: 'num' }, fmtInt(a.threshold)),
    el('td', { class: 'wrap' }, a.message))));
  $('failures-empty').hidden = failures.data.length > 0;
  setRows($('failures-table').tBodies[0], failures.data.map((r) => el('tr', {},
    el('td', {}, fmtTime(r.ts_ms)), el('td', { class: 'num' }, String(r.status)), el('td', {}, r.error || '–'),
    el('td', {}, r.project || '–'), el('td', {}, r.key_id || '–'), el('td', {}, r.model || '–'), el('td', {}, r.route),
    el('td', { class: 'num' }, String(r.attempts)), el('td', { class: 'num' }, fmtMs(r.latency_ms)),
    el('td', {}, el('code', {}, r.request_id)))));
}

// ---- start ---------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn($('admin-key').value);
  });
  $('logout').addEventListener('click', () => signOut());
  $('usage-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadUsage();
  });
  $('key-form').addEventListener('submit', createKey);
  window.addEventListener('hashchange', () => { if (state.key) showTab(location.hash.slice(1)); });
  if (state.key) signIn(state.key);
});
