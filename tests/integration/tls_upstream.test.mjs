// An upstream over HTTPS: a Node `https` server with a certificate from a CA made here with the
// openssl CLI, proxying to `sluice mock`. With the CA configured the gateway gets through; with
// only the system store, or a certificate for another name, it must fail (502), never succeed
// silently.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import http from 'node:http';
import { startMock, startGateway, tempDir } from '../support/harness.mjs';
import { API_HEADERS, Conn, messagesBody, postMessages, gatewayConfig, assertAnthropicError } from './helpers.mjs';

let dir;
let mock;
let good; // cert for localhost + 127.0.0.1
let wrong; // cert for other.example only
const gws = {};

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCerts() {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sluice integration test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const [name, san] of [['server', 'DNS:localhost,IP:127.0.0.1'], ['other', 'DNS:other.example']]) {
    openssl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'other.example'}`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

// An HTTPS server that relays every request to the mock (streams included, piece by piece).
async function startTlsProxy(name) {
  const stats = { connections: 0, handshakeErrors: 0, requests: 0 };
  const srv = https.createServer({ key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) }, (req, res) => {
    stats.requests++;
    const up = http.request({ host: '127.0.0.1', port: mock.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  srv.on('secureConnection', () => { stats.connections++; });
  srv.on('tlsClientError', () => { stats.handshakeErrors++; });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: srv.address().port,
    stats,
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

before(async () => {
  dir = tempDir('sluice-tls-');
  makeCerts();
  mock = await startMock();
  good = await startTlsProxy('server');
  wrong = await startTlsProxy('other');
  const ca = join(dir, 'ca.pem');
  const cfg = (baseUrl, provider = {}) => ({ config: gatewayConfig({ baseUrl, provider, timeouts: { connect_ms: 3000 } }) });
  const entries = await Promise.all([
    ['ca', startGateway(cfg(`https://localhost:${good.port}`, { ca_file: ca }))],
    ['caIp', startGateway(cfg(`https://127.0.0.1:${good.port}`, { ca_file: ca }))],
    ['caEnv', startGateway({ ...cfg(`https://localhost:${good.port}`), env: { SLUICE_CA_FILE: ca } })],
    ['system', startGateway(cfg(`https://localhost:${good.port}`))],
    ['wrongName', startGateway(cfg(`https://localhost:${wrong.port}`, { ca_file: ca }))],
    ['plainToTls', startGateway(cfg(`http://127.0.0.1:${good.port}`))],
  ].map(async ([k, p]) => [k, await p]));
  Object.assign(gws, Object.fromEntries(entries));
});

after(async () => {
  await Promise.all(Object.values(gws).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (good) await good.close();
  if (wrong) await wrong.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TLS upstream', () => {
  test('with ca_file: 200 through the gateway (non-streaming)', async () => {
    const res = await postMessages(gws.ca.port, { body: messagesBody('over tls') });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().content[0].text, 'Hello from sluice mock! You said: over tls');
    assert.match(res.headers['request-id'], /^req_/);
  });

  test('with ca_file: a stream arrives complete', async () => {
    const res = await postMessages(gws.ca.port, { body: messagesBody('stream over tls', { stream: true }) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.events[0].event, 'message_start');
    assert.equal(res.events.at(-1).event, 'message_stop');
    const text = res.events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('');
    assert.equal(text, 'Hello from sluice mock! You said: stream over tls');
  });

  test('an IP-address base URL is verified against the IP SAN', async () => {
    const res = await postMessages(gws.caIp.port, { body: messagesBody('ip san') });
    assert.equal(res.status, 200, res.text);
  });

  test('SLUICE_CA_FILE works like ca_file', async () => {
    const res = await postMessages(gws.caEnv.port, { body: messagesBody('env ca') });
    assert.equal(res.status, 200, res.text);
  });

  test('TLS connections to the upstream are pooled (keep-alive)', async () => {
    // A gateway of its own, so that no pooled connection exists yet.
    const g = await startGateway({ config: gatewayConfig({ baseUrl: `https://localhost:${good.port}`, provider: { ca_file: join(dir, 'ca.pem') } }) });
    gws.pool = g;
    const before = good.stats.connections;
    const requestsBefore = good.stats.requests;
    const conn = await Conn.open(g.port);
    for (let i = 0; i < 3; i++) {
      await conn.send({ headers: API_HEADERS, body: messagesBody(`pooled ${i}`, { stream: i === 1 }) });
      const res = await conn.readResponse();
      assert.equal(res.status, 200);
    }
    conn.close();
    assert.equal(good.stats.requests - requestsBefore, 3);
    assert.equal(good.stats.connections - before, 1, 'three requests over one TLS connection');
  });

  test('without ca_file (system store): 502, and the handshake was refused by the gateway', async () => {
    const before = { ...good.stats };
    const res = await postMessages(gws.system.port, { body: messagesBody('must not pass') });
    assertAnthropicError(res, 502, 'api_error');
    assert.equal(good.stats.requests, before.requests, 'no request reached the server');
    assert.equal(good.stats.connections, before.connections, 'the TLS handshake did not complete');
    assert.ok(good.stats.handshakeErrors > before.handshakeErrors, 'the server saw the gateway abort the handshake');
  });

  test('without ca_file, streaming: 502 too', async () => {
    const res = await postMessages(gws.system.port, { body: messagesBody('must not pass', { stream: true }) });
    assertAnthropicError(res, 502, 'api_error');
  });

  test('a certificate for another host name: 502', async () => {
    const before = { ...wrong.stats };
    const res = await postMessages(gws.wrongName.port, { body: messagesBody('wrong name') });
    assertAnthropicError(res, 502, 'api_error');
    assert.equal(wrong.stats.requests, before.requests, 'no request reached the server');
    assert.ok(wrong.stats.handshakeErrors > before.handshakeErrors, 'the gateway aborted the handshake');
  });

  test('plain HTTP to a TLS port: 502', async () => {
    const res = await postMessages(gws.plainToTls.port, { body: messagesBody('plain to tls') });
    assertAnthropicError(res, 502, 'api_error');
  });
});
