// The client library as a user gets it (issue 9, "done when"): `cmake --install` to a temp
// prefix, a separate CMake project (examples/client) doing find_package(sluice), built and run
// against `sluice mock` behind the gateway. The streaming example must survive an injected 529
// (the gateway is set not to retry, so the client does) and a mid-stream drop of its own
// connection (a proxy cuts it; the client resumes from the gateway), and print the final text
// and usage. The pkg-config file is checked by compiling an example with its flags.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, repoRoot, startMock, sluiceBin } from '../support/harness.mjs';
import { startCutProxy } from '../support/cut_proxy.mjs';
import { mockRequestsWith, startResilientGateway } from '../integration/helpers.mjs';

const buildDir = process.env.SLUICE_BUILD_DIR || join(repoRoot, 'build');
const work = tempDir('sluice-consumer-');
const prefix = join(work, 'prefix');
const exBuild = join(work, 'examples');

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000, ...opts });
}

// Runs an example; resolves { code, stdout, stderr }.
function example(name, args, env, input = '') {
  return new Promise((resolve, reject) => {
    const proc = spawn(join(exBuild, name), args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${name} timed out: ${stderr}`)); }, 30000);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    proc.stdin.end(input);
  });
}

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startResilientGateway({
    providers: [{ name: 'up', base_url: mock.url, retry: { max_attempts: 1, exhausted_should_retry_false: false } }],
  });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
  // The install and the examples' build hold static libraries with debug info: ~100 MB a run.
  rmSync(work, { recursive: true, force: true });
});

test('installs, and a find_package(sluice) project builds against the installed package', () => {
  run('cmake', ['--install', buildDir, '--prefix', prefix]);
  const cfg = ['-S', join(repoRoot, 'examples', 'client'), '-B', exBuild, '-G', 'Ninja', `-DCMAKE_PREFIX_PATH=${prefix}`];
  try { run('ccache', ['--version']); cfg.push('-DCMAKE_CXX_COMPILER_LAUNCHER=ccache'); } catch { /* no ccache */ }
  run('cmake', cfg);
  run('cmake', ['--build', exBuild, '-j', '2']);
});

test('the pkg-config file gives working flags', () => {
  const env = { ...process.env, PKG_CONFIG_PATH: join(prefix, 'lib', 'pkgconfig') };
  const flags = run('pkg-config', ['--cflags', '--libs', 'sluice'], { env }).trim().split(/\s+/);
  run('g++', ['-std=c++20', join(repoRoot, 'examples', 'client', 'streaming_chat.cpp'), '-o', join(work, 'pc_chat'), ...flags]);
});

test('streaming chat survives an injected 529 and a mid-stream drop, through the gateway', async () => {
  const key = `consumer-${process.pid}`;
  const proxy = await startCutProxy(gw.port, {
    cutAfter: 700,
    addHeaders: {
      when: /^POST \/v1\/messages/,
      headers: { 'x-mock-fault': 'status-529', 'x-mock-fail-times': '1', 'x-mock-fault-key': key },
    },
  });
  try {
    const prompt = 'please answer with a long enough reply so the stream has many events in it';
    const r = await example('streaming_chat', [prompt], { ANTHROPIC_BASE_URL: proxy.url, ANTHROPIC_API_KEY: 'sk-consumer' });
    assert.equal(r.code, 0, r.stderr);
    const reply = `Hello from sluice mock! You said: ${prompt}`;
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], reply, 'streamed once, without gaps or repeats');
    assert.equal(lines[1], `[final] ${reply}`);
    assert.match(lines[2], /^\[usage\] input [1-9]\d*, output [1-9]\d*, stop end_turn$/);
    // The 529 reached the client, which retried it; then the stream was cut and resumed.
    const posts = await mockRequestsWith(mock, 'x-mock-fault-key', key);
    assert.equal(posts.length, 2, 'one 529, one success');
    assert.equal(proxy.state.cuts, 1);
    assert.ok(proxy.state.requestLines.some((l) => l.startsWith('GET /v1/streams/')), `resumed: ${proxy.state.requestLines}`);
  } finally {
    await proxy.stop();
  }
});

test('tool-use loop and batch job run against the gateway', async () => {
  const env = { ANTHROPIC_BASE_URL: gw.url, ANTHROPIC_API_KEY: 'sk-consumer' };
  const tools = await example('tool_use_loop', [], env);
  assert.equal(tools.code, 0, tools.stderr);
  assert.match(tools.stdout, /\[tool\] get_weather\(\{"location":"Paris"\}\)/);
  assert.match(tools.stdout, /Tool result received: Sunny, 21 C in Paris/);
  const batch = await example('batch_job', [], env, 'first\nsecond\nthird\n');
  assert.equal(batch.code, 0, batch.stderr);
  assert.match(batch.stdout, /\[0\] \(\d+ input tokens counted\) Hello from sluice mock! You said: first/);
  assert.match(batch.stdout, /\[2\] \(\d+ input tokens counted\) Hello from sluice mock! You said: third/);
  assert.match(batch.stdout, /\[total\] 3 prompts, 0 failed/);
});

test('sluice is installed too', () => {
  assert.match(run(join(prefix, 'bin', 'sluice'), ['--version']), /sluice 0\.1\.0/);
  assert.ok(sluiceBin);
});
