// End to end, resumable streams and recovery (issue 6, docs/resume.md) with real clients:
// - the official @anthropic-ai/sdk streams through a gateway whose upstream stream breaks
//   mid-way; sluice continues it, and the message the SDK accumulates is clean: one text block
//   with the unbroken text, the usage of both attempts;
// - the Node client in docs/examples/resume-client.mjs loses its connection mid-answer (a proxy
//   cuts it) and gets the rest with Last-Event-ID, without a second upstream request.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { startMock, repoRoot } from '../support/harness.mjs';
import { mockMessage, mockRequests, clearMockRequests, settledAccessLog, removeTempDirs, startRelayGateway, startCuttingProxy } from './helpers.mjs';

const CLIENT_KEY = 'sk-ant-e2e-resume-client';
const MODEL = 'claude-sonnet-4-5';
let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startRelayGateway(mock.url, { extraYaml: 'streams:\n  recovery: true\n' });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
  removeTempDirs(mock, gw);
});

describe('the official SDK through a recovered stream', () => {
  for (const n of [5, 9]) {
    test(`reset after event ${n}: finalMessage() has one text block with the unbroken text`, async () => {
      const prompt = `tell me about rivers ${n}`;
      const want = await mockMessage(mock, { model: MODEL, max_tokens: 300, messages: [{ role: 'user', content: prompt }] });
      await clearMockRequests(mock);
      const client = new Anthropic({ apiKey: CLIENT_KEY, baseURL: gw.url, maxRetries: 0, timeout: 15000 });
      const key = `e2e-recover-${process.pid}-${n}`;
      const stream = client.messages.stream(
        { model: MODEL, max_tokens: 300, messages: [{ role: 'user', content: prompt }] },
        { headers: { 'x-mock-fault': `reset-after-${n}`, 'x-mock-fail-times': '1', 'x-mock-fault-key': key } },
      );
      let streamed = '';
      stream.on('text', (t) => { streamed += t; });
      const message = await stream.finalMessage();
      assert.equal(message.content.length, 1);
      assert.equal(message.content[0].type, 'text');
      assert.equal(message.content[0].text, want.content[0].text);
      assert.equal(streamed, want.content[0].text);
      assert.equal(message.stop_reason, 'end_turn');
      assert.ok(message.usage.input_tokens > want.usage.input_tokens, 'both attempts\' input');
      assert.ok(message.usage.output_tokens >= want.usage.output_tokens);
      assert.equal((await mockRequests(mock)).length, 2, 'the request and one continuation');
    });
  }
});

describe('docs/examples/resume-client.mjs', () => {
  test('loses its connection mid-answer and gets the rest with Last-Event-ID: one upstream request', async () => {
    await clearMockRequests(mock);
    const cutter = await startCuttingProxy(gw.port);
    try {
      const run = await new Promise((resolveP) => {
        const child = spawn(process.execPath, [join(repoRoot, 'docs', 'examples', 'resume-client.mjs'), 'a river runs through it'], {
          env: {
            ...process.env,
            SLUICE_URL: `http://127.0.0.1:${cutter.port}`,
            ANTHROPIC_API_KEY: CLIENT_KEY,
            SLUICE_EXTRA_HEADERS: JSON.stringify({ 'x-mock-tokens-per-second': '100' }),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => { stdout += d; });
        child.stderr.on('data', (d) => { stderr += d; });
        const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
        child.on('close', (code) => { clearTimeout(timer); resolveP({ code, stdout, stderr }); });
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'Hello from sluice mock! You said: a river runs through it');
      assert.match(run.stderr, /resuming st_\w+ after st_\w+:\d+/);
      assert.equal(cutter.cuts, 1);
      assert.equal((await mockRequests(mock)).length, 1, 'no second upstream request');
      const log = await settledAccessLog(gw, (lines) => lines.some((l) => l.route.startsWith('/v1/streams/')));
      const resume = log.find((l) => l.route.startsWith('/v1/streams/'));
      assert.equal(resume.replayed, 'resume');
      assert.equal(resume.status, 200);
    } finally {
      await cutter.close();
    }
  });
});
