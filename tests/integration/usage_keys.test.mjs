// Virtual keys: passthrough until the first key exists, then every request needs a valid key
// (x-api-key or Bearer), compared in constant time; sluice keys never reach the provider; the
// CLI and the admin API create, list and revoke keys; the admin API refuses requests without
// the admin key.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { startMock } from '../support/harness.mjs';
import { postMessages, assertAnthropicError, recordedRequest, waitFor } from './helpers.mjs';
import { startUsageGateway, createKey, ADMIN_KEY, PROVIDER_KEY, adminCall, join } from './usage_helpers.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

describe('virtual keys', () => {
  test('with no key configured any client is let through to the provider with sluice\'s key', async () => {
    const res = await postMessages(gw.port);
    assert.equal(res.status, 200, res.text);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
  });

  let alpha;
  test('a key made by `sluice keys create` is required within the poll interval', async () => {
    alpha = await createKey(gw, 'alpha');
    assert.equal(alpha.project, 'alpha');
    assert.match(alpha.id, /^key_[0-9a-f]{16}$/);
    assert.equal(alpha.hint, `${alpha.key.slice(0, 12)}...`);

    const missing = await postMessages(gw.port, { headers: { 'x-api-key': '' } });
    const body = assertAnthropicError(missing, 401, 'authentication_error');
    assert.match(body.error.message, /x-api-key/);
    const wrong = await postMessages(gw.port, { headers: { 'x-api-key': 'sk-ant-test-client-key' } });
    assertAnthropicError(wrong, 401, 'authentication_error');
    const nearMiss = `${alpha.key.slice(0, -1)}${alpha.key.endsWith('A') ? 'B' : 'A'}`;
    assertAnthropicError(await postMessages(gw.port, { headers: { 'x-api-key': nearMiss } }), 401, 'authentication_error');

    const ok = await postMessages(gw.port, { headers: { 'x-api-key': alpha.key } });
    assert.equal(ok.status, 200, ok.text);
    const bearer = await postMessages(gw.port, { headers: { 'x-api-key': '', authorization: `Bearer ${alpha.key}` } });
    assert.equal(bearer.status, 200, bearer.text);
  });

  test('a sluice key never reaches the provider', async () => {
    const res = await postMessages(gw.port, { headers: { 'x-api-key': alpha.key } });
    assert.equal(res.status, 200);
    const rec = await recordedRequest(mock, res.headers['request-id']);
    const all = JSON.stringify(rec.headers);
    assert.ok(!all.includes(alpha.key), `the sluice key was forwarded: ${all}`);
    assert.equal(rec.headers.authorization, undefined);
    assert.equal(rec.headers['x-api-key'], PROVIDER_KEY);
    // The access log names the project and key id, never the key.
    const line = await waitFor(() => gw.accessLog().find((l) => l.request_id === res.headers['x-sluice-request-id']));
    assert.ok(line, 'access-log line');
    assert.equal(line.project, 'alpha');
    assert.equal(line.key_id, alpha.id);
    assert.ok(!JSON.stringify(gw.accessLog()).includes(alpha.key));
  });

  test('only the hash is stored: the secret is nowhere in the data directory', () => {
    for (const f of readdirSync(gw.dataDir)) {
      const bytes = readFileSync(join(gw.dataDir, f));
      assert.ok(!bytes.includes(alpha.key), `${f} holds the secret`);
      assert.ok(!bytes.includes(alpha.key.slice(12)), `${f} holds the secret's tail`);
    }
  });

  test('`sluice keys list` shows the key without its secret; revoke locks it out', async () => {
    const list = gw.cli('keys', 'list');
    assert.equal(list.code, 0, list.stderr);
    const keys = list.json().data;
    const mine = keys.find((k) => k.id === alpha.id);
    assert.equal(mine.project, 'alpha');
    assert.ok(!list.stdout.includes(alpha.key));

    const revoke = gw.cli('keys', 'revoke', alpha.id);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.ok(await waitFor(async () => (await postMessages(gw.port, { headers: { 'x-api-key': alpha.key } })).status === 401));
    assert.equal(gw.cli('keys', 'revoke', alpha.id).code, 1, 'revoking twice fails');
    assert.ok(gw.cli('keys', 'list', '--all').json().data.find((k) => k.id === alpha.id).revoked_ms > 0);
    // Revoking every key does not reopen passthrough.
    assertAnthropicError(await postMessages(gw.port), 401, 'authentication_error');
  });
});

describe('admin API', () => {
  test('refuses requests without the admin key, or with a wrong one', async () => {
    for (const key of [null, 'wrong-admin-key-0123456789', `${ADMIN_KEY}x`, ADMIN_KEY.slice(0, -1)]) {
      const r = await adminCall(gw, 'GET', '/admin/keys', undefined, key);
      assert.equal(r.status, 401, `key ${key}: ${r.text}`);
      assert.equal(r.json().error.type, 'authentication_error');
    }
    const post = await adminCall(gw, 'POST', '/admin/keys', { project: 'evil' }, 'nope');
    assert.equal(post.status, 401);
    const byBearer = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(byBearer.status, 200);
  });

  test('creates, reads, lists and revokes keys; sets project limits', async () => {
    const created = await gw.admin('POST', '/admin/keys', { project: 'beta', name: 'ci', rpm: 100, budget_usd_day: 5 });
    assert.equal(created.status, 201, created.text);
    const k = created.json();
    assert.match(k.key, /^sk-sluice-/);
    assert.equal(k.limits.rpm, 100);
    assert.equal(k.limits.budget_usd_day, 5);
    assert.equal(k.limits.tpm, null);
    // Visible to the data plane as soon as the call returns.
    const ok = await postMessages(gw.port, { headers: { 'x-api-key': k.key } });
    assert.equal(ok.status, 200, ok.text);

    const one = await gw.admin('GET', `/admin/keys/${k.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.json().key, undefined, 'the secret is shown only once');
    assert.ok((await gw.admin('GET', '/admin/keys')).json().data.some((x) => x.id === k.id));

    const proj = await gw.admin('PUT', '/admin/projects/beta', { tpm: 50000, concurrency: 4 });
    assert.equal(proj.status, 200, proj.text);
    assert.equal(proj.json().limits.tpm, 50000);
    const projects = (await gw.admin('GET', '/admin/projects')).json().data;
    assert.equal(projects.find((p) => p.name === 'beta').limits.concurrency, 4);

    const del = await gw.admin('DELETE', `/admin/keys/${k.id}`);
    assert.equal(del.status, 200);
    assert.ok(del.json().revoked_ms > 0);
    assertAnthropicError(await postMessages(gw.port, { headers: { 'x-api-key': k.key } }), 401, 'authentication_error');
  });

  test('bad admin requests get clear errors', async () => {
    assert.equal((await gw.admin('POST', '/admin/keys', { project: 'bad name!' })).status, 400);
    assert.equal((await gw.admin('POST', '/admin/keys', { project: 'p', rpm: -1 })).status, 400);
    assert.equal((await gw.admin('POST', '/admin/keys', {})).status, 400);
    const notJson = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY }, body: '{' });
    assert.equal(notJson.status, 400);
    assert.equal((await gw.admin('GET', '/admin/keys/key_0000000000000000')).status, 404);
    assert.equal((await gw.admin('GET', '/admin/nothing')).status, 404);
    assert.equal((await gw.admin('PATCH', '/admin/keys')).status, 405);
    assert.equal((await gw.admin('GET', '/admin/usage?by=week')).status, 400);
    assert.equal((await gw.admin('GET', '/admin/usage?since=yesterday')).status, 400);
  });

  test('is off (403) when no admin key is configured', async () => {
    const off = await startUsageGateway(mock.url, { yaml: { admin: { key: '' } } });
    try {
      const r = await adminCall(off, 'GET', '/admin/keys', undefined, ADMIN_KEY);
      assert.equal(r.status, 403);
      assert.equal(r.json().error.type, 'permission_error');
    } finally {
      await off.stop();
    }
  });
});

describe('auth modes', () => {
  test('mode keys requires a key even before one exists; passthrough never does', async () => {
    const strict = await startUsageGateway(mock.url, { yaml: { auth: { mode: 'keys' } } });
    const open = await startUsageGateway(mock.url, { yaml: { auth: { mode: 'passthrough' } } });
    try {
      assertAnthropicError(await postMessages(strict.port), 401, 'authentication_error');
      const made = strict.cli('keys', 'create', '--project', 'p');
      assert.equal(made.code, 0);
      open.cli('keys', 'create', '--project', 'p');
      const res = await postMessages(open.port);
      assert.equal(res.status, 200, 'passthrough ignores keys');
      assert.ok(await waitFor(async () => (await postMessages(strict.port, { headers: { 'x-api-key': made.stdout.trim() } })).status === 200));
    } finally {
      await strict.stop();
      await open.stop();
    }
  });
});
