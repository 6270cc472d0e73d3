// Helpers for the scale-out tests: several `sluice serve` replicas sharing one Redis and one
// PostgreSQL (started by tests/support/servers.mjs), the test's own round-robin over them, and
// the `sluice keys|usage` commands against the same config. Not a test file (no .test.mjs).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startGateway, tempDir, sluiceBin } from '../support/harness.mjs';
import { toYaml, waitFor, postMessages } from './helpers.mjs';
import { ADMIN_KEY, PROVIDER_KEY, adminCall } from './usage_helpers.mjs';

// The config every replica of a cluster shares (each still gets its own data_dir, so nothing
// is shared through a SQLite file by accident).
export function clusterConfig({ mockUrl, pgUrl, redisUrl, limits = {}, dataDir }) {
  return toYaml({
    server: { threads: 2 },
    data_dir: dataDir,
    providers: [{ name: 'test', kind: 'anthropic', base_url: mockUrl, api_key: PROVIDER_KEY, retry: { max_attempts: 1 } }],
    auth: { mode: 'auto', key_poll_ms: 200, key_store: 'postgres' },
    admin: { key: ADMIN_KEY },
    ledger: { engine: 'postgres', commit_window_ms: 50 },
    postgres: { url: pgUrl },
    redis: { url: redisUrl, timeout_ms: 250 },
    limits: { engine: 'redis', on_redis_error: 'open', ...limits },
  });
}

// `n` replicas with `opts` (see clusterConfig). Returns { replicas, at(i), cli(...args), stop() }.
export async function startCluster(n, opts) {
  const replicas = [];
  for (let i = 0; i < n; i++) {
    const dataDir = tempDir('sluice-replica-');
    const gw = await startGateway({ config: clusterConfig({ ...opts, dataDir }) });
    gw.admin = (method, path, body, key = ADMIN_KEY) => adminCall(gw, method, path, body, key);
    replicas.push(gw);
  }
  const cfgDir = tempDir('sluice-cli-');
  const cfgPath = join(cfgDir, 'sluice.yaml');
  writeFileSync(cfgPath, clusterConfig({ ...opts, dataDir: cfgDir }));
  return {
    replicas,
    at: (i) => replicas[i % replicas.length],  // the test's round-robin
    cli: (...args) => {
      const r = spawnSync(sluiceBin, [...args, '--config', cfgPath], { encoding: 'utf8', timeout: 20000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
    },
    async stop() { for (const gw of replicas) await gw.stop(); },
  };
}

// True when keys are in force on `gw` (a request without one gets sluice's 401: before the
// replica has loaded any key it runs in passthrough) and `secret` is accepted. GET /v1/models
// is authenticated but neither limited nor metered: probing leaves no trace.
export async function accepts(gw, secret) {
  const h = { 'anthropic-version': '2023-06-01' };
  const get = async (headers) => {
    const r = await fetch(`${gw.url}/v1/models`, { headers, signal: AbortSignal.timeout(5000) });
    await r.arrayBuffer();
    return r.status;
  };
  if ((await get(h)) !== 401) return false;
  return (await get({ ...h, 'x-api-key': secret })) === 200;
}

// Creates a key with `sluice keys create --config` (PostgreSQL) and waits until every replica
// accepts it. Returns the created key's JSON.
export async function createSharedKey(cluster, project, limits = {}) {
  const args = ['keys', 'create', '--project', project, '--json'];
  for (const [k, v] of Object.entries(limits)) args.push(`--${k}`, String(v));
  const r = cluster.cli(...args);
  assert.equal(r.code, 0, r.stderr);
  const created = r.json();
  for (const gw of cluster.replicas) {
    assert.ok(await waitFor(() => accepts(gw, created.key), 5000), `replica ${gw.port} accepts the new key within 5 s`);
  }
  return created;
}

// `total` requests spread round-robin over the replicas, all at once, each on its own connection.
export function roundRobinBurst(cluster, total, headers, body) {
  return Promise.all(Array.from({ length: total }, (_, i) => postMessages(cluster.at(i).port, { headers, body })));
}

export const count = (rs, s) => rs.filter((r) => r.status === s).length;
