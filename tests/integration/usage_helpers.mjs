// Helpers for the usage tests (keys, limits, metering, ledger, metrics, alerts): a gateway with
// its own data directory and an admin key, the `sluice keys|projects|usage` commands run
// against that directory, and the admin API. Not a test file (no .test.mjs).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startGateway, tempDir, sluiceBin } from '../support/harness.mjs';
import { toYaml, waitFor, postMessages } from './helpers.mjs';

export const ADMIN_KEY = 'admin-key-for-tests-0123456789';
// With virtual keys the provider key is sluice's own (the client's sluice key is never sent on).
export const PROVIDER_KEY = 'sk-ant-provider-key-of-the-gateway';

// Mock prices are the built-in table's: claude-sonnet-4-5 is $3 / $15 per MTok, cache
// writes $3.75 and reads $0.30.
export const SONNET = 'claude-sonnet-4-5';
export function sonnetCostMicros(u) {
  const nanos = u.input_tokens * 3000 + u.output_tokens * 15000 + (u.cache_creation_input_tokens || 0) * 3750 +
    (u.cache_read_input_tokens || 0) * 300;
  return Math.floor((nanos + 500) / 1000);
}

// `sluice serve` in front of `upstreamUrl` with a fresh data directory. `yaml` adds or overrides
// top-level config sections (objects, as toYaml takes them).
export async function startUsageGateway(upstreamUrl, { yaml = {}, env = {}, provider = {} } = {}) {
  const dataDir = tempDir('sluice-data-');
  const config = toYaml({
    server: { threads: 2 },
    data_dir: dataDir,
    providers: [{ name: 'test', kind: 'anthropic', base_url: upstreamUrl, api_key: PROVIDER_KEY, retry: { max_attempts: 1 }, ...provider }],
    auth: { mode: 'auto', key_poll_ms: 50 },
    admin: { key: ADMIN_KEY },
    ledger: { commit_window_ms: 50 },
    ...yaml,
  });
  const gw = await startGateway({ config, env });
  gw.dataDir = dataDir;
  gw.cli = (...args) => runCli(args, dataDir);
  gw.admin = (method, path, body, key = ADMIN_KEY) => adminCall(gw, method, path, body, key);
  return gw;
}

// Runs `sluice <args> --data-dir DIR`; returns { code, stdout, stderr, json() }.
export function runCli(args, dataDir) {
  const r = spawnSync(sluiceBin, [...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

// `key` null sends no credential.
export async function adminCall(gw, method, path, body, key = ADMIN_KEY) {
  const headers = { 'content-type': 'application/json' };
  if (key) headers['x-api-key'] = key;
  const r = await fetch(`${gw.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) };
}

// Creates a key through the CLI and waits until the gateway accepts it.
export async function createKey(gw, project, limits = {}) {
  const args = ['keys', 'create', '--project', project, '--json'];
  for (const [k, v] of Object.entries(limits)) args.push(`--${k}`, String(v));
  const r = gw.cli(...args);
  assert.equal(r.code, 0, r.stderr);
  const created = r.json();
  assert.match(created.key, /^sk-sluice-[0-9A-Za-z]{43}$/);
  await waitFor(async () => (await gw.admin('GET', `/admin/keys/${created.id}`)).status === 200);
  // In force once a request without a key gets sluice's own 401 and one with it does not.
  // GET /v1/models is authenticated but neither limited nor metered: probing leaves no trace.
  const inForce = await waitFor(async () => {
    const without = await fetch(`${gw.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } });
    if (without.status !== 401 || without.headers.get('request-id') !== without.headers.get('x-sluice-request-id')) return false;
    const withKey = await fetch(`${gw.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01', 'x-api-key': created.key } });
    return withKey.status === 200;
  });
  assert.ok(inForce, 'the gateway accepts the new key within 5 s');
  return created;
}

// The usage report of the admin API.
export async function usageReport(gw, query = '') {
  const r = await gw.admin('GET', `/admin/usage${query ? `?${query}` : ''}`);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

export function bodyFor(prompt, extra = {}) {
  return JSON.stringify({ model: SONNET, max_tokens: 256, messages: [{ role: 'user', content: prompt }], ...extra });
}

export { join };
