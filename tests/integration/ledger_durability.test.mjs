// The ledger loses nothing on SIGTERM and at most its commit window on kill -9: the gateway is
// killed under load and every answered request is looked up in the SQLite file by its id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock, sleep } from '../support/harness.mjs';
import { postMessages, now } from './helpers.mjs';
import { startUsageGateway, bodyFor, join } from './usage_helpers.mjs';

const COMMIT_WINDOW_MS = 100;

let mock;
before(async () => { mock = await startMock(); });
after(async () => { if (mock) await mock.stop(); });

function ledgerIds(dataDir) {
  const r = spawnSync('sqlite3', [join(dataDir, 'sluice.db'), 'SELECT request_id FROM requests'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return new Set(r.stdout.split('\n').filter(Boolean));
}

// Clients send requests back to back until stopped; each answered request is kept with its
// sluice request id and the time its last byte arrived.
function load(gw, clients) {
  const answered = [];
  let stop = false;
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) {
      const res = await postMessages(gw.port, { body: bodyFor('hi') }, { timeoutMs: 3000 }).catch(() => null);
      if (res && res.status === 200 && res.complete) answered.push({ id: res.headers['x-sluice-request-id'], t: now() });
      else if (stop || !res) break;
    }
  });
  return { answered, stop: async () => { stop = true; await Promise.all(loops); } };
}

test('kill -9 under load loses at most the last commit window of ledger rows', async () => {
  const gw = await startUsageGateway(mock.url, { yaml: { ledger: { commit_window_ms: COMMIT_WINDOW_MS } } });
  const l = load(gw, 8);
  await sleep(1500);
  const tKill = now();
  process.kill(gw.proc.pid, 'SIGKILL');
  await gw.exited;
  await l.stop();
  const rows = ledgerIds(gw.dataDir);
  const before = l.answered.filter((a) => a.t < tKill);
  assert.ok(before.length > 100, `load produced ${before.length} answers`);
  // Anything answered more than a commit window (plus time to write it) before the kill is durable.
  const margin = COMMIT_WINDOW_MS + 150;
  const lostOld = before.filter((a) => a.t < tKill - margin && !rows.has(a.id));
  const lost = before.filter((a) => !rows.has(a.id));
  console.log(`answered ${before.length}, rows ${rows.size}, lost ${lost.length} (all within the last ${margin} ms: ${lostOld.length === 0})`);
  assert.deepEqual(lostOld.map((a) => a.id), [], 'rows older than the commit window were lost');
  assert.ok(rows.size <= before.length + 8, 'no phantom rows');
});

test('SIGTERM under load loses no ledger row', async () => {
  const gw = await startUsageGateway(mock.url, { yaml: { ledger: { commit_window_ms: 1000 } } });
  const l = load(gw, 8);
  await sleep(1000);
  await gw.stop('SIGTERM');
  await l.stop();
  const rows = ledgerIds(gw.dataDir);
  const missing = l.answered.filter((a) => !rows.has(a.id));
  assert.ok(l.answered.length > 50, `load produced ${l.answered.length} answers`);
  assert.deepEqual(missing.map((a) => a.id), [], 'every answered request has its row');
});
