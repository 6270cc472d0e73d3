// The C++ client library end to end, driven through `sluice chat -p` (src/app/chat_command.cpp):
// streaming, usage and cost, the SDK's retries (529, 429 with retry-after, x-should-retry),
// tiered timeouts and broken streams, against `sluice mock` directly and through the gateway.
// Attempts are counted where they arrive: the mock records each request with its headers.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startMock, startGateway, sluiceBin } from '../support/harness.mjs';
import { mockRequestsWith, startResilientGateway, now } from './helpers.mjs';
import { startCutProxy } from '../support/cut_proxy.mjs';

let seq = 0;
const key = (name) => `${name}-${process.pid}-${++seq}`;

// Runs `sluice chat` with `args`; resolves { code, stdout, stderr, ms }. Bounded by timeoutMs.
function chat(baseUrl, args, { timeoutMs = 20000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const proc = spawn(sluiceBin, ['chat', '--base-url', baseUrl, '--model', 'claude-sonnet-4-5', ...args], {
      env: { ...process.env, ANTHROPIC_API_KEY: 'sk-client-test', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`sluice chat timed out: ${stderr}`)); }, timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, ms: now() - t0 }); });
    proc.stdin.end(args.includes('-p') ? '' : undefined);
  });
}

// Headers that make the mock fail the first `times` requests carrying a fresh key.
function faultArgs(fault, times, extra = []) {
  const k = key('f');
  const args = ['-H', `x-mock-fault: ${fault}`, '-H', `x-mock-fault-key: ${k}`, ...extra];
  if (times !== undefined) args.push('-H', `x-mock-fail-times: ${times}`);
  return { k, args };
}

let mock;
let gw;
let gwNoRetry; // a gateway that passes upstream errors straight on: the client retries alone
let gwNoResume; // streams.resume off: no stream ids, nothing to resume from

before(async () => {
  mock = await startMock();
  [gw, gwNoRetry, gwNoResume] = await Promise.all([
    startGateway({ upstream: mock.url }),
    startResilientGateway({
      providers: [{ name: 'up', base_url: mock.url, retry: { max_attempts: 1, exhausted_should_retry_false: false } }],
    }),
    startResilientGateway({ providers: [{ name: 'up', base_url: mock.url }], streams: { resume: false } }),
  ]);
});

after(async () => {
  await Promise.all([gw, gwNoRetry, gwNoResume].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
});

describe('sluice chat against sluice mock', () => {
  test('streams the answer and prints usage and cost', async () => {
    const r = await chat(mock.url, ['-p', 'hello there']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello from sluice mock! You said: hello there\n');
    assert.match(r.stderr, /\[usage\] input \d+, output \d+ \| cost \$0\.\d{6}/);
  });

  test('keeps the conversation across turns', async () => {
    const proc = spawn(sluiceBin, ['chat', '--base-url', mock.url, '--model', 'claude-sonnet-4-5'], {
      env: { ...process.env, ANTHROPIC_API_KEY: 'k' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((res) => proc.on('exit', res));
    proc.stdin.end('first turn\nsecond turn\n');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
    assert.equal(await exited, 0, err);
    clearTimeout(timer);
    assert.match(out, /You said: first turn\n.*You said: second turn\n/s);
    const inputs = [...err.matchAll(/input (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(inputs.length, 2);
    assert.ok(inputs[1] > inputs[0], `the second turn carries the first: ${inputs}`);
  });

  test('retries an injected 529 and succeeds', async () => {
    const { k, args } = faultArgs('status-529', 1);
    const r = await chat(mock.url, ['-p', 'hi', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /You said: hi/);
    const seen = await mockRequestsWith(mock, 'x-mock-fault-key', k);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen.map((q) => q.headers['x-stainless-retry-count']), ['0', '1']);
  });

  test('waits the retry-after of a 429 before retrying', async () => {
    const { k, args } = faultArgs('status-429', 1, ['-H', 'x-mock-retry-after: 1']);
    const r = await chat(mock.url, ['-p', 'hi', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms >= 1000, `answered after ${r.ms} ms`);
    assert.equal((await mockRequestsWith(mock, 'x-mock-fault-key', k)).length, 2);
  });

  test('gives up after max retries with the API error', async () => {
    const { k, args } = faultArgs('status-529', undefined, ['--max-retries', '1']);
    const r = await chat(mock.url, ['-p', 'hi', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /api 529 overloaded_error: .*request_id req_\w+, 2 attempts/);
    assert.equal((await mockRequestsWith(mock, 'x-mock-fault-key', k)).length, 2);
  });

  test('does not retry a 400', async () => {
    const { k, args } = faultArgs('status-400', undefined);
    const r = await chat(mock.url, ['-p', 'hi', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /api 400 invalid_request_error/);
    assert.equal((await mockRequestsWith(mock, 'x-mock-fault-key', k)).length, 1);
  });

  test('first-byte timeout', async () => {
    const { args } = faultArgs('slow-first-byte', undefined, ['-H', 'x-mock-delay-ms: 3000']);
    const r = await chat(mock.url, ['-p', 'hi', '--first-byte-timeout-ms', '300', '--max-retries', '0', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sluice chat: timeout/);
    assert.ok(r.ms < 2500, `gave up after ${r.ms} ms`);
  });

  test('idle timeout inside a stream is an error, not a short answer', async () => {
    const { args } = faultArgs('stall-after-3', undefined);
    const r = await chat(mock.url, ['-p', 'hi', '--idle-timeout-ms', '300', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sluice chat: timeout/);
  });

  test('a dropped stream from Anthropic (no stream id) is an error', async () => {
    const { k, args } = faultArgs('reset-after-4', undefined);
    const r = await chat(mock.url, ['-p', 'one two three four five six seven', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stream_broken/);
    assert.equal((await mockRequestsWith(mock, 'x-mock-fault-key', k)).length, 1, 'a started stream is never retried');
  });

  test('a stream that ends without message_stop is an error', async () => {
    const { args } = faultArgs('truncate-after-3', undefined);
    const r = await chat(mock.url, ['-p', 'one two three four five', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stream_broken 200: the stream ended without message_stop/);
  });

  test('an error event mid-stream is the API error', async () => {
    const { args } = faultArgs('error-after-3', undefined);
    const r = await chat(mock.url, ['-p', 'one two three four five', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /api 200 overloaded_error/);
  });
});

describe('sluice chat through the gateway', () => {
  test('streams through the gateway', async () => {
    const r = await chat(gw.url, ['-p', 'through the gateway']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello from sluice mock! You said: through the gateway\n');
    assert.match(r.stderr, /\[usage\] input \d+, output \d+/);
  });

  test('a 529 the gateway passes on is retried by the client', async () => {
    const { k, args } = faultArgs('status-529', 1);
    const r = await chat(gwNoRetry.url, ['-p', 'hi', ...args]);
    assert.equal(r.code, 0, r.stderr);
    const seen = await mockRequestsWith(mock, 'x-mock-fault-key', k);
    assert.equal(seen.length, 2);
  });

  test('a 429 with retry-after through the gateway is waited for', async () => {
    const { k, args } = faultArgs('status-429', 1, ['-H', 'x-mock-retry-after: 1']);
    const r = await chat(gwNoRetry.url, ['-p', 'hi', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms >= 1000, `answered after ${r.ms} ms`);
    assert.equal((await mockRequestsWith(mock, 'x-mock-fault-key', k)).length, 2);
  });

  test('a cut connection resumes from the gateway: the answer arrives whole, once', async () => {
    const k = key('cut');
    const proxy = await startCutProxy(gw.port, { cutAfter: 600 });
    try {
      const prompt = 'a prompt long enough for a reply of many events, cut in the middle of one';
      const r = await chat(proxy.url, ['-p', prompt, '-H', `x-test-key: ${k}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Hello from sluice mock! You said: ${prompt}\n`);
      assert.equal(proxy.state.cuts, 1);
      const resumes = proxy.state.requestLines.filter((l) => l.startsWith('GET /v1/streams/'));
      assert.equal(resumes.length, 1, proxy.state.requestLines.join(' | '));
      assert.equal((await mockRequestsWith(mock, 'x-test-key', k)).length, 1, 'the upstream answered once');
    } finally {
      await proxy.stop();
    }
  });

  test('with resume off at the gateway, a cut connection is an error', async () => {
    const proxy = await startCutProxy(gwNoResume.port, { cutAfter: 600 });
    try {
      const r = await chat(proxy.url, ['-p', 'a prompt long enough for a reply of many events, cut in the middle']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /stream_broken 200: the stream broke/);
      assert.equal(proxy.state.requestLines.filter((l) => l.startsWith('GET ')).length, 0);
    } finally {
      await proxy.stop();
    }
  });
});
