// The admin endpoints the dashboard reads (docs/admin-api.md, "Dashboard endpoints"), on their
// own: daily usage per project (seeded ledger rows over 8 days, exact per-day figures, filters,
// bad input), the live snapshot (rates, errors, percentiles, active streams, breakers), keys and
// projects with current use against their limits, recent alerts, recent failed requests without
// prompt text, and the dashboard's static files (public, with a strict CSP).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway } from '../support/harness.mjs';
import { postMessages, messagesBody, waitFor } from './helpers.mjs';
import { startUsageGateway, createKey, adminCall, SONNET, sonnetCostMicros } from './usage_helpers.mjs';
import { seedRows, insertRows, expectedDaily, dayRange, todayStartMs, DAY_MS, utcDay } from './dashboard_helpers.mjs';

let mock;
let gw;
const today = todayStartMs();
const seeded = seedRows(['alpha', 'beta'], 8, { today });

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url, { yaml: { alerts: { large_request_tokens: 5 } } });
  insertRows(gw.dataDir, seeded);
  // A passthrough row of a client without a key (project ""), the day before yesterday.
  insertRows(gw.dataDir, [{ ...seeded[0], request_id: 'req_seed_nokey', project: '', key_id: '', ts_ms: today - 2 * DAY_MS + 5 }]);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

function assertBadRequest(res, messagePart) {
  assert.equal(res.status, 400, res.text);
  const body = res.json();
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'invalid_request_error');
  assert.ok(body.error.message.includes(messagePart), `message "${body.error.message}" names ${messagePart}`);
}

const ENDPOINTS = ['/admin/usage/daily', '/admin/live', '/admin/limits', '/admin/alerts', '/admin/requests/failed'];

describe('access', () => {
  test('every dashboard endpoint needs the admin key', async () => {
    for (const path of ENDPOINTS) {
      const none = await adminCall(gw, 'GET', path, undefined, null);
      assert.equal(none.status, 401, `${path}: ${none.text}`);
      const wrong = await adminCall(gw, 'GET', path, undefined, 'not-the-admin-key-at-all');
      assert.equal(wrong.status, 401, path);
      assert.equal(wrong.json().error.type, 'authentication_error');
    }
  });

  test('other methods get 405 with Allow', async () => {
    for (const path of ENDPOINTS) {
      const r = await gw.admin('POST', path, {});
      assert.equal(r.status, 405, `${path}: ${r.text}`);
      assert.ok(r.headers.get('allow'));
    }
  });

  test('the page and its files are public, with a strict content security policy', async () => {
    for (const [path, type] of [['/admin/dashboard', /^text\/html/], ['/admin/dashboard/', /^text\/html/],
      ['/admin/dashboard/app.js', /^text\/javascript/], ['/admin/dashboard/app.css', /^text\/css/]]) {
      const r = await fetch(`${gw.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type'), type);
      assert.match(r.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    const html = await (await fetch(`${gw.url}/admin/dashboard`)).text();
    assert.match(html, /<script defer src="\/admin\/dashboard\/app.js"><\/script>/);
    assert.ok(!/https?:\/\//.test(html.replace(/http:\/\/www\.w3\.org[^"]*/g, '')), 'no external URL in the page');
    const js = await (await fetch(`${gw.url}/admin/dashboard/app.js`)).text();
    assert.ok(js.includes('uPlot') || js.includes('u-legend'), 'uPlot is bundled into app.js');
    assert.ok(!/https?:\/\/(cdn|unpkg|fonts)/.test(js), 'nothing loaded from a CDN');
    const missing = await fetch(`${gw.url}/admin/dashboard/nope.js`);
    assert.equal(missing.status, 404);
    const post = await fetch(`${gw.url}/admin/dashboard`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('with the admin API off, the page still loads and the data says why it cannot be read', async () => {
    const off = await startGateway({ upstream: mock.url });
    try {
      assert.equal((await fetch(`${off.url}/admin/dashboard`)).status, 200);
      const r = await fetch(`${off.url}/admin/live`, { headers: { 'x-api-key': 'whatever-key-0123456789' } });
      assert.equal(r.status, 403);
      assert.match((await r.json()).error.message, /admin API is off/);
    } finally {
      await off.stop();
    }
  });
});

describe('GET /admin/usage/daily', () => {
  const from = today - 8 * DAY_MS;
  const to = today - DAY_MS;
  const days = dayRange(from, to);

  function assertMatches(body, want) {
    assert.deepEqual(body.days, want.days);
    assert.deepEqual(body.projects.map((p) => p.project), Object.keys(want.projects).sort());
    for (const p of body.projects) {
      const w = want.projects[p.project];
      for (const f of ['requests', 'errors', 'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'cost_micros']) {
        assert.deepEqual(p[f], w[f], `${p.project} ${f}`);
        assert.equal(p.totals[f], w.totals[f], `${p.project} totals.${f}`);
      }
      assert.deepEqual(p.cost_usd, w.cost_micros.map((c) => c / 1e6));
    }
    for (const f of Object.keys(want.totals)) assert.equal(body.totals[f], want.totals[f], `totals.${f}`);
  }

  test('one series per project, one point per UTC day, exact sums', async () => {
    const r = await gw.admin('GET', `/admin/usage/daily?from=${utcDay(from)}&to=${utcDay(to)}`);
    assert.equal(r.status, 200, r.text);
    const body = r.json();
    assert.equal(body.from, utcDay(from));
    assert.equal(body.to, utcDay(to));
    assert.deepEqual(body.filter, []);
    const allRows = [...seeded, { ...seeded[0], project: '', ts_ms: today - 2 * DAY_MS + 5 }];
    assertMatches(body, expectedDaily(allRows, days));
    assert.deepEqual(body.available_projects, ['', 'alpha', 'beta']);
    // Days without use are zeros, not gaps: the seeded data has use on every day.
    assert.equal(body.projects.find((p) => p.project === 'alpha').input_tokens.length, 8);
  });

  test('a project filter, one or several projects', async () => {
    const one = (await gw.admin('GET', `/admin/usage/daily?from=${utcDay(from)}&to=${utcDay(to)}&project=beta`)).json();
    assertMatches(one, expectedDaily(seeded, days, ['beta']));
    assert.deepEqual(one.filter, ['beta']);
    assert.deepEqual(one.available_projects, ['', 'alpha', 'beta'], 'the choices ignore the filter');
    const two = (await gw.admin('GET', `/admin/usage/daily?from=${utcDay(from)}&to=${utcDay(to)}&project=alpha,beta`)).json();
    assertMatches(two, expectedDaily(seeded, days, ['alpha', 'beta']));
    // A project with no use in the range gets a series of zeros.
    const ghost = (await gw.admin('GET', `/admin/usage/daily?from=${utcDay(from)}&to=${utcDay(to)}&project=ghost`)).json();
    assert.deepEqual(ghost.projects.map((p) => p.project), ['ghost']);
    assert.deepEqual(ghost.projects[0].input_tokens, new Array(8).fill(0));
    assert.equal(ghost.totals.requests, 0);
  });

  test('the default range is the 7 days up to today, and includes what the gateway just answered', async () => {
    const res = await postMessages(gw.port, { body: messagesBody('count me today', { model: SONNET }) });
    assert.equal(res.status, 200, res.text);
    const usage = res.json().usage;
    // The request's ledger row is appended in its finish phase, just after its last byte went
    // out: poll (bounded) until it is in, then assert as before.
    const daily = async () => (await gw.admin('GET', '/admin/usage/daily')).json();
    const body = (await waitFor(async () => {
      const b = await daily();
      return b.projects.some((p) => p.project === '' && p.input_tokens[6] === usage.input_tokens) ? b : null;
    }, 3000)) ?? (await daily());
    assert.deepEqual(body.days, dayRange(today - 6 * DAY_MS, today));
    const none = body.projects.find((p) => p.project === '');
    assert.ok(none, 'the passthrough request has project ""');
    assert.equal(none.input_tokens[6], usage.input_tokens);  // nothing is seeded today
    assert.equal(none.output_tokens[6], usage.output_tokens);
    assert.equal(none.cost_micros[6], sonnetCostMicros(usage));
  });

  test('an empty range answers zeros, not an error', async () => {
    const body = (await gw.admin('GET', '/admin/usage/daily?from=2020-01-01&to=2020-01-07')).json();
    assert.equal(body.days.length, 7);
    assert.deepEqual(body.projects, []);
    assert.equal(body.totals.requests, 0);
    assert.equal(body.totals.cost_micros, 0);
  });

  test('bad input gets a 400 that names the parameter', async () => {
    const bad = async (q, part) => assertBadRequest(await gw.admin('GET', `/admin/usage/daily?${q}`), part);
    await bad('from=2026-13-01', 'from');
    await bad('from=yesterday', 'from');
    await bad('to=1700000000000', 'to');
    await bad('from=2026-11-10&to=2026-11-01', 'from');
    await bad('from=2020-01-01&to=2026-01-01', 'at most 366 days');
    await bad('project=bad%20name', 'project');
    await bad('project=a,,b', 'project');
  });
});

describe('GET /admin/live', () => {
  test('requests, errors, percentiles and breakers over the window; admin calls are not counted', async () => {
    // A gateway of its own, so the counts are exactly this test's.
    const own = await startUsageGateway(mock.url);
    try {
      const empty = (await own.admin('GET', '/admin/live')).json();
      assert.equal(empty.requests, 0);
      assert.equal(empty.latency_ms.p50, null);
      assert.equal(empty.error_rate, 0);
      for (let i = 0; i < 4; i++) assert.equal((await postMessages(own.port)).status, 200);
      const failed = await postMessages(own.port, { headers: { 'x-mock-fault': 'status-400' } });
      assert.equal(failed.status, 400);
      // A request is counted in its finish phase, which runs just after its last byte went out:
      // a client can ask before the last one is in (bounded wait, then the same assertions).
      const liveNow = async (query) => (await own.admin('GET', `/admin/live${query}`)).json();
      const live = (await waitFor(async () => {
        const l = await liveNow('?window=60');
        return l.requests === 5 ? l : null;
      }, 3000)) ?? (await liveNow('?window=60'));
      assert.equal(live.window_s, 60);
      assert.equal(live.requests, 5);
      assert.equal(live.errors, 1);
      assert.equal(live.error_rate, 0.2);
      assert.equal(live.requests_per_second, 5 / 60);
      assert.equal(live.latency_ms.samples, 5);
      assert.ok(live.latency_ms.p50 > 0 && live.latency_ms.p99 >= live.latency_ms.p50, JSON.stringify(live.latency_ms));
      assert.ok(live.ttft_ms.samples >= 4 && live.ttft_ms.p50 > 0, JSON.stringify(live.ttft_ms));
      assert.equal(live.active_streams, 0);
      assert.equal(live.status, 'ok');
      assert.deepEqual(live.providers.map((p) => p.name), ['test']);
      assert.equal(live.providers[0].deployments[0].breaker, 'closed');
      assert.ok(Math.abs(live.ts_ms - Date.now()) < 60_000);
      assert.equal(typeof live.ledger.written, 'number');

      // A stream in flight shows up as an active stream.
      const streaming = postMessages(own.port, {
        body: messagesBody('a slow stream of several words to relay', { stream: true }),
        headers: { 'x-mock-tokens-per-second': '8' },
      });
      const seen = await waitFor(async () => (await own.admin('GET', '/admin/live')).json().active_streams === 1, 5000);
      assert.ok(seen, 'active_streams reaches 1 while a stream is relayed');
      assert.equal((await streaming).status, 200);
      // The gauge drops when the relay returns, a moment after the client read the last byte.
      const after = (await waitFor(async () => {
        const l = await liveNow('?window=5');
        return l.active_streams === 0 ? l : null;
      }, 3000)) ?? (await liveNow('?window=5'));
      assert.equal(after.active_streams, 0);
      assert.equal(after.window_s, 5);
    } finally {
      await own.stop();
    }
  });

  test('a bad window is a 400', async () => {
    for (const w of ['0', '301', 'abc', '-5', '1.5']) assertBadRequest(await gw.admin('GET', `/admin/live?window=${w}`), 'window');
  });
});

describe('GET /admin/limits', () => {
  test('each key and project: limits, what is in use now, spend and budget left', async () => {
    assert.equal((await gw.admin('PUT', '/admin/projects/limited', { rpm: 100, budget_usd_month: 50 })).status, 200);
    const key = await createKey(gw, 'limited', { rpm: 10, tpm: 100000, concurrency: 3, 'budget-usd-day': 2 });
    const costs = [];
    for (const prompt of ['first of two', 'second of two']) {
      const res = await postMessages(gw.port, { body: messagesBody(prompt, { model: SONNET }), headers: { 'x-api-key': key.key } });
      assert.equal(res.status, 200, res.text);
      costs.push(sonnetCostMicros(res.json().usage));
    }
    const spent = (costs[0] + costs[1]) / 1e6;
    const body = (await gw.admin('GET', '/admin/limits')).json();
    const k = body.keys.find((x) => x.id === key.id);
    assert.ok(k, 'the key is listed');
    assert.equal(k.project, 'limited');
    assert.equal(k.hint, key.hint);
    assert.equal(k.key, undefined, 'never the secret');
    assert.deepEqual(k.limits, { rpm: 10, tpm: 100000, concurrency: 3, budget_usd_day: 2, budget_usd_month: null });
    // Token buckets refill continuously (10 per minute here): two requests a moment ago.
    assert.equal(k.usage.rpm.limit, 10);
    assert.ok(k.usage.rpm.used > 1.5 && k.usage.rpm.used <= 2, JSON.stringify(k.usage.rpm));
    assert.ok(Math.abs(k.usage.rpm.used + k.usage.rpm.remaining - 10) < 1e-9);
    assert.equal(k.usage.tpm.limit, 100000);
    assert.ok(k.usage.tpm.used > 0, 'settled tokens are in use');
    assert.deepEqual(k.usage.concurrency, { limit: 3, in_flight: 0 });
    assert.equal(k.usage.budget_day.limit_usd, 2);
    assert.ok(Math.abs(k.usage.budget_day.spent_usd - spent) < 1e-9, `${k.usage.budget_day.spent_usd} vs ${spent}`);
    assert.ok(Math.abs(k.usage.budget_day.left_usd - (2 - spent)) < 1e-9);
    assert.equal(k.usage.budget_month.limit_usd, null);
    assert.equal(k.usage.budget_month.left_usd, null);
    assert.ok(Math.abs(k.usage.budget_month.spent_usd - spent) < 1e-9);

    const p = body.projects.find((x) => x.name === 'limited');
    assert.equal(p.usage.rpm.limit, 100);
    assert.ok(p.usage.rpm.used > 1.5 && p.usage.rpm.used <= 2);
    assert.equal(p.usage.tpm, null, 'no TPM limit: null');
    assert.equal(p.usage.concurrency, null);
    assert.equal(p.usage.budget_month.limit_usd, 50);
    assert.ok(Math.abs(p.usage.budget_month.left_usd - (50 - spent)) < 1e-9);

    // A revoked key leaves the list.
    assert.equal((await gw.admin('DELETE', `/admin/keys/${key.id}`)).status, 200);
    const again = (await gw.admin('GET', '/admin/limits')).json();
    assert.ok(!again.keys.some((x) => x.id === key.id));
  });
});

describe('GET /admin/alerts', () => {
  test('the last alerts, newest first, with ids and counts only', async () => {
    // large_request_tokens is 5 here: every answered request raises one.
    const key = await createKey(gw, 'alerting');
    const ids = [];
    for (const prompt of ['alert one', 'alert two', 'alert three']) {
      const res = await postMessages(gw.port, { body: messagesBody(prompt), headers: { 'x-api-key': key.key } });
      assert.equal(res.status, 200);
      ids.push(res.headers['x-sluice-request-id']);
    }
    // An alert is raised in the request's finish phase, just after its answer went out; other
    // tests' requests raise them too (the threshold is 5 tokens): ours are found by project.
    const all = await waitFor(async () => {
      const b = (await gw.admin('GET', '/admin/alerts?limit=200')).json();
      return b.data.filter((x) => x.project === 'alerting').length >= 3 ? b : null;
    }, 3000);
    assert.ok(all, 'the three alerts were raised');
    // The finish phase of one request may still run when the next is answered: the alerts come
    // in the order they were raised, newest first, whatever order the answers went out in.
    assert.deepEqual(all.data.filter((x) => x.project === 'alerting').map((x) => x.request_id).sort(), [...ids].sort());
    const body = await waitFor(async () => {
      // The newest two, as the longer list has them (unless another alert came in meanwhile).
      const b = (await gw.admin('GET', '/admin/alerts?limit=2')).json();
      const now = (await gw.admin('GET', '/admin/alerts?limit=200')).json();
      return b.total === now.total ? { b, now } : null;
    }, 3000).then((r) => {
      assert.deepEqual(r.b.data.map((x) => x.request_id), r.now.data.slice(0, 2).map((x) => x.request_id));
      return r.b;
    });
    assert.equal(body.data.length, 2);
    const a = all.data.find((x) => x.request_id === ids[2]);
    assert.equal(a.kind, 'large_request');
    assert.equal(a.project, 'alerting');
    assert.equal(a.key_id, key.id);
    assert.equal(a.threshold, 5);
    assert.ok(a.tokens > 5);
    assert.match(a.message, /tokens/);
    assert.ok(!JSON.stringify(body).includes('alert three'), 'no prompt text');
    assert.ok(body.total >= 3);
    assert.equal(body.kept, 200);
    for (const l of ['0', '1001', 'x']) assertBadRequest(await gw.admin('GET', `/admin/alerts?limit=${l}`), 'limit');
  });
});

describe('GET /admin/requests/failed', () => {
  test('the newest failed requests from the ledger, without prompt text', async () => {
    const key = await createKey(gw, 'failing');
    const secretPrompt = 'the-prompt-text-must-never-be-shown-4242';
    const res = await postMessages(gw.port, { body: messagesBody(secretPrompt), headers: { 'x-api-key': key.key, 'x-mock-fault': 'status-500' } });
    assert.equal(res.status, 500);
    // Its ledger row is appended just after its last byte went out: poll (bounded) for it.
    const failed = async () => (await gw.admin('GET', '/admin/requests/failed?limit=500')).json();
    const body = (await waitFor(async () => {
      const b = await failed();
      return b.data[0]?.request_id === res.headers['x-sluice-request-id'] ? b : null;
    }, 3000)) ?? (await failed());
    const first = body.data[0];
    assert.equal(first.request_id, res.headers['x-sluice-request-id'], 'newest first');
    assert.equal(first.status, 500);
    assert.equal(first.project, 'failing');
    assert.equal(first.key_id, key.id);
    assert.equal(first.route, '/v1/messages');
    assert.ok(first.latency_ms > 0);
    assert.ok(!JSON.stringify(body).includes(secretPrompt), 'no prompt text');
    const seededFailures = seeded.filter((r) => r.status >= 400).map((r) => r.request_id).sort();
    const listed = body.data.map((r) => r.request_id);
    for (const id of seededFailures) assert.ok(listed.includes(id), `${id} listed`);
    assert.ok(body.data.every((r) => r.status >= 400 || r.error), 'only failures');
    for (let i = 1; i < body.data.length; i++) assert.ok(body.data[i - 1].ts_ms >= body.data[i].ts_ms, 'sorted by time');

    const beta = (await gw.admin('GET', '/admin/requests/failed?project=beta')).json();
    assert.deepEqual(beta.data.map((r) => r.request_id).sort(), seeded.filter((r) => r.project === 'beta' && r.status >= 400).map((r) => r.request_id).sort());
    assert.ok(beta.data.every((r) => r.status === 502 && r.error === 'UpstreamFailed' && r.attempts === 3));
    assert.equal((await gw.admin('GET', '/admin/requests/failed?limit=1')).json().data.length, 1);
    const recent = (await gw.admin('GET', `/admin/requests/failed?since=${today}`)).json();
    assert.ok(recent.data.every((r) => r.ts_ms >= today));
    assert.ok(recent.data.some((r) => r.request_id === first.request_id));
    assertBadRequest(await gw.admin('GET', '/admin/requests/failed?limit=501'), 'limit');
    assertBadRequest(await gw.admin('GET', '/admin/requests/failed?since=last-week'), 'since');
    assertBadRequest(await gw.admin('GET', '/admin/requests/failed?project=a,b'), 'project');
  });
});
