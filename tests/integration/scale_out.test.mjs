// Scale-out (issue 10): three `sluice serve` replicas on loopback share one `sluice mock`, one
// Redis (rate limits) and one PostgreSQL (ledger, keys and projects), with nothing in front but
// this test's round-robin. Limits hold across the replicas together (and multiply by three with
// in-process limits: the test shows both); every request is counted once in PostgreSQL; a key
// created or revoked anywhere is seen by every replica within seconds; an unreachable Redis
// gets the configured policy.
// Streams resumed through another replica, and a replica killed mid-stream: shared_streams.test.mjs.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from '../support/harness.mjs';
import { startRedis, startPostgres } from '../support/servers.mjs';
import { postMessages, assertAnthropicError, now, waitFor, healthz } from './helpers.mjs';
import { bodyFor, SONNET } from './usage_helpers.mjs';
import { startCluster, createSharedKey, roundRobinBurst, count, accepts } from './scale_helpers.mjs';

let mock, redis, pg, cluster;

before(async () => {
  [mock, redis, pg] = await Promise.all([startMock(), startRedis(), startPostgres()]);
  cluster = await startCluster(3, { mockUrl: mock.url, pgUrl: pg.url, redisUrl: redis.url });
});

after(async () => {
  // Each stops by its own PID; the servers' 'exit' hook covers a crash before this runs.
  if (cluster) await cluster.stop();
  await Promise.all([mock?.stop(), redis?.stop(), pg?.stop()]);
});

const statuses = (rs) => rs.map((r) => r.status).join(',');

describe('limits shared through Redis', () => {
  test('a project with 60 RPM gets exactly 60 requests through three replicas together; in-process limits admit 180', async () => {
    // A project limit, two keys of the project, three replicas: one bucket for all of them.
    const set = cluster.cli('projects', 'set', 'rpm60', '--rpm', '60');
    assert.equal(set.code, 0, set.stderr);
    const a = await createSharedKey(cluster, 'rpm60', {});
    const b = await createSharedKey(cluster, 'rpm60', {});
    let t0 = now();
    const shared = await Promise.all(Array.from({ length: 90 }, (_, i) =>
      postMessages(cluster.at(i).port, { headers: { 'x-api-key': i % 2 ? a.key : b.key }, body: bodyFor('hi') })));
    const sharedMs = now() - t0;
    // The bucket refills one request per second: a burst that took longer could see more.
    const refill = Math.floor(sharedMs / 1000);
    const admitted = count(shared, 200);
    assert.ok(admitted >= 60 && admitted <= 60 + refill, `${admitted} admitted in ${sharedMs.toFixed(0)} ms: ${statuses(shared)}`);
    assert.equal(admitted + count(shared, 429), 90);
    const refused = shared.find((r) => r.status === 429);
    const body = assertAnthropicError(refused, 429, 'rate_limit_error');
    assert.match(body.error.message, /project 'rpm60' is limited to 60 requests per minute/);
    assert.equal(refused.headers['x-sluice-ratelimit-limit'], 'rpm');
    assert.equal(refused.headers['x-sluice-ratelimit-scope'], 'project');
    assert.equal(refused.headers['anthropic-ratelimit-requests-limit'], '60');
    // Every replica refused some: the limit is one bucket, not three.
    for (let i = 0; i < 3; i++) {
      const mine = shared.filter((_, j) => j % 3 === i);
      assert.ok(count(mine, 429) > 0, `replica ${i} refused too`);
    }
    console.log(`shared RPM: ${admitted}/90 admitted in ${sharedMs.toFixed(0)} ms through 3 replicas`);

    // The same limit with each replica's own buckets: every replica admits the whole 60.
    const local = await startCluster(3, { mockUrl: mock.url, pgUrl: pg.url, redisUrl: redis.url, limits: { engine: 'local' } });
    try {
      assert.equal(local.cli('projects', 'set', 'rpm60-local', '--rpm', '60').code, 0);
      const kl = await createSharedKey(local, 'rpm60-local', {});
      t0 = now();
      const rs = await roundRobinBurst(local, 270, { 'x-api-key': kl.key }, bodyFor('hi'));
      const localMs = now() - t0;
      const n = count(rs, 200);
      const localRefill = 3 * Math.floor(localMs / 1000);
      assert.ok(n >= 180 && n <= 180 + localRefill, `${n} admitted in ${localMs.toFixed(0)} ms`);
      console.log(`in-process RPM: ${n}/270 admitted in ${localMs.toFixed(0)} ms through 3 replicas (60 x 3)`);
    } finally {
      await local.stop();
    }
  });

  test('TPM holds across replicas within one request of the limit', async () => {
    // 10,000 TPM; each request reserves max_tokens 1000 + its input estimate (a few tokens), so
    // 9 or 10 fit at once. The streams are paced to stay in flight while the burst is admitted,
    // so no reservation is settled (and its unused tokens returned) before the others arrive.
    const k = await createSharedKey(cluster, 'tpm10k', { tpm: 10000 });
    const body = bodyFor('hi', { max_tokens: 1000, stream: true });
    // ~2.5 s in flight: room for a sanitized build 2-3x slower to admit the whole burst first.
    const headers = { 'x-api-key': k.key, 'x-mock-tokens-per-second': '4', 'x-mock-reply': 'one two three four five six seven eight' };
    const t0 = now();
    const rs = await roundRobinBurst(cluster, 30, headers, body);
    const ms = now() - t0;
    const admitted = count(rs, 200);
    assert.ok(admitted >= 9 && admitted <= 10, `${admitted} admitted in ${ms.toFixed(0)} ms: ${statuses(rs)}`);
    const refused = rs.find((r) => r.status === 429);
    assert.equal(refused.headers['x-sluice-ratelimit-limit'], 'tpm');
    console.log(`shared TPM: ${admitted}/30 admitted in ${ms.toFixed(0)} ms (limit 10000, ~1005 reserved each)`);
    // Settled with the real usage (a few dozen tokens each): the unused reservations came back.
    const again = await postMessages(cluster.at(1).port, { headers: { 'x-api-key': k.key }, body: bodyFor('hi', { max_tokens: 1000 }) });
    assert.equal(again.status, 200, again.text);

    // In-process buckets: each replica admits its own 9 or 10.
    const local = await startCluster(3, { mockUrl: mock.url, pgUrl: pg.url, redisUrl: redis.url, limits: { engine: 'local' } });
    try {
      const kl = await createSharedKey(local, 'tpm10k-local', { tpm: 10000 });
      const lrs = await roundRobinBurst(local, 90, { ...headers, 'x-api-key': kl.key }, body);
      const n = count(lrs, 200);
      assert.ok(n >= 27 && n <= 30, `${n} admitted: ${statuses(lrs)}`);
      console.log(`in-process TPM: ${n}/90 admitted through 3 replicas (10000 x 3)`);
    } finally {
      await local.stop();
    }
  });

  test('a concurrency limit counts requests in flight on every replica', async () => {
    const k = await createSharedKey(cluster, 'conc3', { concurrency: 3 });
    const slow = bodyFor('hi', { stream: true });
    const rs = await roundRobinBurst(cluster, 12, { 'x-api-key': k.key, 'x-mock-tokens-per-second': '10' }, slow);
    assert.equal(count(rs, 200), 3, statuses(rs));
    assert.equal(rs.find((r) => r.status === 429).headers['x-sluice-ratelimit-limit'], 'concurrency');
    for (const r of rs.filter((x) => x.status === 200)) assert.equal(r.events.at(-1).event, 'message_stop');
    // Every slot was settled in Redis when its stream ended, whichever replica held it.
    const next = await roundRobinBurst(cluster, 3, { 'x-api-key': k.key }, bodyFor('hi'));
    assert.equal(statuses(next), '200,200,200');
    // The streams' ids reach the PostgreSQL ledger (its schema step 2, as SQLite's).
    const ids = rs.filter((r) => r.status === 200).map((r) => r.headers['x-sluice-request-id']);
    const stored = await waitFor(() => {
      const got = pg.psql(`SELECT count(*) FROM requests WHERE stream_id <> '' AND NOT replayed AND request_id IN (${ids.map((i) => `'${i}'`).join(',')})`);
      return got === '3' && got;
    }, 5000);
    assert.equal(stored, '3', 'every admitted stream has its stream id in the ledger');
    const h = await healthz(cluster.at(0));
    assert.equal(h.limits.redis, 'ok');
    assert.equal(h.limits.settlements_pending, 0);
  });
});

describe('the ledger in PostgreSQL', () => {
  test('every request is counted once, with the tokens the mock reported', async () => {
    const k = await createSharedKey(cluster, 'ledger', { rpm: 40 });
    const t0 = now();
    const rs = await roundRobinBurst(cluster, 60, { 'x-api-key': k.key, 'x-mock-cache-read-tokens': '7' }, bodyFor('count me'));
    const ok = rs.filter((r) => r.status === 200);
    const refill = Math.floor((now() - t0) / 1500);  // 40 RPM: one request per 1.5 s
    assert.ok(ok.length >= 40 && ok.length <= 40 + refill, statuses(rs));
    const sum = (f) => ok.reduce((s, r) => s + f(r.json().usage), 0);
    const want = { input: sum((u) => u.input_tokens), output: sum((u) => u.output_tokens), cacheRead: sum((u) => u.cache_read_input_tokens) };
    // Rows reach PostgreSQL within each replica's commit window.
    const rows = await waitFor(() => Number(pg.psql("SELECT count(*) FROM requests WHERE project = 'ledger'")) === 60 && 60, 5000);
    assert.equal(rows, 60, 'one row per answered request, 200s and 429s alike');
    assert.equal(pg.psql("SELECT count(*) - count(DISTINCT request_id) FROM requests WHERE project = 'ledger'"), '0');
    assert.equal(pg.psql("SELECT count(*) FROM requests WHERE project = 'ledger' AND status = 429"), String(count(rs, 429)));
    const ids = new Set(rs.map((r) => r.headers['x-sluice-request-id']));
    const stored = new Set(pg.psql("SELECT request_id FROM requests WHERE project = 'ledger'").split('\n'));
    assert.deepEqual([...ids].filter((id) => !stored.has(id)), [], 'every answered request id is in the ledger');

    // `sluice usage` and the admin API of any replica read the same figures from PostgreSQL.
    const cli = cluster.cli('usage', '--project', 'ledger', '--by', 'model');
    assert.equal(cli.code, 0, cli.stderr);
    const viaCli = cli.json().totals;
    assert.equal(viaCli.requests, 60);
    assert.equal(viaCli.input_tokens, want.input);
    assert.equal(viaCli.output_tokens, want.output);
    assert.equal(viaCli.cache_read_tokens, want.cacheRead);
    for (let i = 0; i < 3; i++) {
      const r = await cluster.at(i).admin('GET', '/admin/usage?project=ledger&by=model');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json().totals, viaCli, `replica ${i} reports the same totals`);
      assert.equal(r.json().data[0].model, SONNET);
    }
    // The other PostgreSQL queries: by UTC day, errors, and the dashboard's failed requests.
    const refused = count(rs, 429);
    assert.equal(viaCli.errors, refused, 'the 429s count as errors');
    const today = new Date().toISOString().slice(0, 10);
    const byDay = cluster.cli('usage', '--project', 'ledger', '--by', 'day', '--since', today);
    assert.equal(byDay.code, 0, byDay.stderr);
    assert.deepEqual(byDay.json().data.map((d) => [d.day, d.requests, d.errors]), [[today, 60, refused]]);
    const failed = await cluster.at(2).admin('GET', '/admin/requests/failed?project=ledger&limit=500');
    assert.equal(failed.status, 200, failed.text);
    const rows429 = failed.json().data;
    assert.equal(rows429.length, refused);
    assert.ok(rows429.every((r) => r.status === 429 && r.project === 'ledger' && r.stream === false && r.key_id === k.id));
    for (let i = 1; i < rows429.length; i++) assert.ok(rows429[i - 1].ts_ms >= rows429[i].ts_ms, 'newest first');
    const one = await cluster.at(1).admin('GET', '/admin/requests/failed?project=ledger&limit=1');
    assert.equal(one.json().data.length, Math.min(1, refused));
    const version = pg.psql("SELECT component || '=' || version FROM sluice_schema_versions ORDER BY component");
    assert.equal(version, 'keys=1\nledger=2', 'the schema is created and versioned by sluice');
  });
});

describe('keys shared through PostgreSQL', () => {
  test('a key created on one replica works on the others within seconds, and a revoked one stops', async () => {
    const created = await cluster.at(0).admin('POST', '/admin/keys', { project: 'shared-keys' });
    assert.equal(created.status, 201, created.text);
    const { key, id } = created.json();
    const t0 = now();
    for (const i of [1, 2]) assert.ok(await waitFor(() => accepts(cluster.at(i), key), 5000), `replica ${i} accepts it`);
    const seenMs = now() - t0;
    const listed = cluster.cli('keys', 'list');
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.json().data.some((k) => k.id === id));

    const revoked = cluster.cli('keys', 'revoke', id);
    assert.equal(revoked.code, 0, revoked.stderr);
    const t1 = now();
    for (const i of [0, 1, 2]) {
      assert.ok(await waitFor(async () => !(await accepts(cluster.at(i), key)), 5000), `replica ${i} refuses it`);
    }
    const goneMs = now() - t1;
    const r = await postMessages(cluster.at(2).port, { headers: { 'x-api-key': key }, body: bodyFor('hi') });
    assertAnthropicError(r, 401, 'authentication_error');
    console.log(`key seen by every replica in ${seenMs.toFixed(0)} ms, revocation in ${goneMs.toFixed(0)} ms (key_poll 200 ms)`);
  });
});

describe('Redis unreachable', () => {
  test('fail open falls back to local buckets; fail closed answers 503 in the client dialect', async () => {
    const own = await startRedis();  // this test's own Redis, so stopping it touches no other test
    const open = await startCluster(1, { mockUrl: mock.url, pgUrl: pg.url, redisUrl: own.url, limits: { on_redis_error: 'open' } });
    const closed = await startCluster(1, { mockUrl: mock.url, pgUrl: pg.url, redisUrl: own.url, limits: { on_redis_error: 'closed' } });
    try {
      const k = await createSharedKey(open, 'redis-down', { rpm: 2 });
      for (const gw of closed.replicas) assert.ok(await waitFor(() => accepts(gw, k.key), 5000));
      const up = await postMessages(closed.at(0).port, { headers: { 'x-api-key': k.key }, body: bodyFor('hi') });
      assert.equal(up.status, 200, up.text);

      await own.stop();
      for (const c of [open, closed]) {
        const h = await waitFor(async () => { const b = await healthz(c.at(0)); return b.limits.redis === 'unreachable' && b; }, 3000);
        assert.ok(h, 'healthz shows Redis unreachable within 3 s');
        assert.equal(h.status, 'degraded');
      }
      // Open: this replica's own buckets apply (2 RPM: two pass, the third is refused).
      const rs = [];
      for (let i = 0; i < 3; i++) rs.push(await postMessages(open.at(0).port, { headers: { 'x-api-key': k.key }, body: bodyFor('hi') }));
      assert.equal(statuses(rs), '200,200,429');
      // Closed: a clear 503, at once (no wait on the dead Redis), in each client's dialect.
      const t0 = now();
      const a = await postMessages(closed.at(0).port, { headers: { 'x-api-key': k.key }, body: bodyFor('hi') });
      assert.ok(now() - t0 < 1000, 'refused without waiting on Redis');
      const err = assertAnthropicError(a, 503, 'api_error');
      assert.match(err.error.message, /Redis, which is unreachable.*on_redis_error: closed/);
      const o = await fetch(`${closed.at(0).url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${k.key}` },
        body: JSON.stringify({ model: SONNET, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(o.status, 503);
      const ob = await o.json();
      assert.equal(ob.type, undefined, 'an OpenAI error body, not an Anthropic one');
      assert.match(ob.error.message, /Redis/);
      const metrics = await (await fetch(`${closed.at(0).url}/metrics`)).text();
      assert.match(metrics, /^sluice_redis_up 0$/m);
      assert.match(metrics, /^sluice_ratelimit_redis_fallback_total\{result="refused"\} [1-9]/m);
      const openMetrics = await (await fetch(`${open.at(0).url}/metrics`)).text();
      assert.match(openMetrics, /^sluice_ratelimit_redis_fallback_total\{result="local"\} [1-9]/m);
    } finally {
      await open.stop();
      await closed.stop();
      await own.stop();
    }
  });
});

describe('PostgreSQL outage', () => {
  test('rows are kept while PostgreSQL is down, written once it is back, and flushed on SIGTERM', async () => {
    const k = await createSharedKey(cluster, 'outage', {});
    const rows = () => Number(pg.psql("SELECT count(*) FROM requests WHERE project = 'outage'"));
    await pg.stopServer();
    // Keys stay in force from each replica's last snapshot; answers do not wait on the ledger.
    const rs = await roundRobinBurst(cluster, 21, { 'x-api-key': k.key }, bodyFor('while the ledger is down'));
    assert.equal(count(rs, 200), 21, statuses(rs));
    const queued = await waitFor(async () => {
      const m = await (await fetch(`${cluster.at(0).url}/metrics`)).text();
      return Number(/^sluice_ledger_queue_rows (\d+)/m.exec(m)?.[1]) >= 7;
    }, 3000);
    assert.ok(queued, 'replica 0 holds its 7 rows');
    const failing = await waitFor(async () => {
      const m = await (await fetch(`${cluster.at(1).url}/metrics`)).text();
      return Number(/^sluice_ledger_write_errors_total (\d+)/m.exec(m)?.[1]) > 0 &&
        Number(/^sluice_keys_reload_failures_total (\d+)/m.exec(m)?.[1]) > 0;
    }, 5000);
    assert.ok(failing, 'the failing writes and key reloads show in the metrics');
    await pg.startServer();
    assert.ok(await waitFor(() => rows() === 21, 15000), `21 rows once PostgreSQL is back (got ${rows()})`);

    // SIGTERM: what was answered is committed before the process exits.
    const last = cluster.at(2);
    const more = await Promise.all(Array.from({ length: 10 }, () =>
      postMessages(last.port, { headers: { 'x-api-key': k.key }, body: bodyFor('just before SIGTERM') })));
    assert.equal(count(more, 200), 10);
    await last.stop('SIGTERM');
    assert.equal(rows(), 31, 'no row lost at shutdown');
    assert.equal(pg.psql("SELECT count(*) - count(DISTINCT request_id) FROM requests WHERE project = 'outage'"), '0');
  });
});
