// Resumable streams (issue 6, docs/resume.md): event ids, replay buffers, resume by id and by
// an identical retry, the grace period, the memory cap, and what the ledger says. Real
// `sluice serve` in front of `sluice mock`; the client side is raw sockets, so a drop is a real
// TCP close after exactly the events the test chose.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock, sleep } from '../support/harness.mjs';
import {
  API_HEADERS, Conn, messagesBody, request, mockRequestsWith, waitFor, assertAnthropicError, stripEventIds, openAndDrop,
} from './helpers.mjs';
import { startUsageGateway, join, SONNET } from './usage_helpers.mjs';

const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu';
let mock;
let gw; // defaults: resume on, TTL 5 min, grace 60 s
let seq = 0;
const marker = () => `resume-${process.pid}-${++seq}`;

before(async () => {
  mock = await startMock();
  gw = await startUsageGateway(mock.url);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

// A streaming request whose answer is WORDS at `tps` words a second; `tag` marks it at the mock.
function streamRequest(tag, { tps = 200, key = API_HEADERS['x-api-key'], prompt = WORDS, extra = {} } = {}) {
  return {
    method: 'POST',
    path: '/v1/messages',
    headers: { ...API_HEADERS, 'x-api-key': key, 'x-test-marker': tag, 'x-mock-reply': prompt, 'x-mock-tokens-per-second': String(tps), ...extra },
    body: messagesBody(`resume test ${tag}`, { stream: true, model: SONNET }),
  };
}

const idOf = (ev) => /^id: (\S+)$/m.exec(ev.raw)?.[1];
// The events as a client's SDK sees them: type and data, with the mock's message id normalised.
const plain = (events) => events.map((e) => `${e.event}\n${e.data.replace(/msg_[A-Za-z0-9]+/g, 'msg_X')}`);

// Streams the gateway has seen their client leave (sluice_streams_detached_total).
async function detachedCount(g) {
  const text = await (await fetch(`${g.url}/metrics`)).text();
  return Number(/^sluice_streams_detached_total (\d+)/m.exec(text)[1]);
}

// Like openAndDrop, and waits until the gateway noticed the drop: a retry sent before that is,
// to any server, a second request for a stream whose client is still there.
async function dropAndWait(g, opts, k) {
  const before = await detachedCount(g);
  const dropped = await openAndDrop(g.port, opts, k);
  assert.ok(await waitFor(async () => (await detachedCount(g)) > before, 3000, 10), 'the gateway noticed the drop');
  return dropped;
}

function resumeById(port, streamId, lastId, { key = API_HEADERS['x-api-key'] } = {}) {
  const headers = { 'x-api-key': key };
  if (lastId) headers['last-event-id'] = lastId;
  return request(port, { method: 'GET', path: `/v1/streams/${streamId}`, headers }, { timeoutMs: 15000 });
}

function ledgerRows(g, where) {
  const q = spawnSync('sqlite3', ['-json', join(g.dataDir, 'sluice.db'),
    `SELECT request_id, stream_id, replayed, input_tokens, output_tokens, cost_micros, route FROM requests WHERE ${where}`],
  { encoding: 'utf8' });
  assert.equal(q.status, 0, q.stderr);
  return q.stdout.trim() ? JSON.parse(q.stdout) : [];
}

describe('event ids', () => {
  test('every event of an Anthropic stream carries id <stream-id>:<seq>, and the response names the stream', async () => {
    const res = await request(gw.port, streamRequest(marker()));
    assert.equal(res.status, 200);
    const sid = res.headers['x-sluice-stream-id'];
    assert.match(sid, /^st_[A-Za-z0-9]{22}$/);
    assert.ok(res.events.length > 10);
    res.events.forEach((e, i) => assert.equal(idOf(e), `${sid}:${i + 1}`, `event ${i + 1}`));
    assert.equal(res.events.at(-1).event, 'message_stop');
  });

  test('OpenAI streams carry ids only when the client opts in with x-sluice-resumable', async () => {
    const body = JSON.stringify({ model: 'claude-test-model', stream: true, messages: [{ role: 'user', content: 'ids?' }] });
    const headers = { authorization: 'Bearer sk-openai-client', 'content-type': 'application/json' };
    const plainRes = await request(gw.port, { method: 'POST', path: '/v1/chat/completions', headers, body });
    assert.equal(plainRes.status, 200);
    assert.equal(plainRes.headers['x-sluice-stream-id'], undefined);
    assert.ok(!/^id:/m.test(plainRes.text), 'no id lines without the opt-in (openai-python would crash on them)');
    const opted = await request(gw.port, { method: 'POST', path: '/v1/chat/completions', headers: { ...headers, 'x-sluice-resumable': '1' }, body });
    const sid = opted.headers['x-sluice-stream-id'];
    assert.match(sid, /^st_/);
    assert.equal(opted.events.at(-1).data, '[DONE]');
    opted.events.forEach((e, i) => assert.equal(idOf(e), `${sid}:${i + 1}`));
    // ... and such a stream resumes in its own dialect.
    const rest = await resumeById(gw.port, sid, `${sid}:2`, { key: 'sk-openai-client' });
    assert.deepEqual(rest.events.map((e) => e.data), opted.events.slice(2).map((e) => e.data));
  });
});

describe('resume by Last-Event-ID', () => {
  test('a drop after every event index, then a resume: what the client saw equals the uninterrupted stream', async () => {
    const reference = await request(gw.port, streamRequest(marker()));
    const want = plain(reference.events);
    const n = reference.events.length;
    const tag = marker();
    for (let k = 1; k < n; k++) {
      const { head, events } = await openAndDrop(gw.port, streamRequest(tag), k);
      assert.equal(events.length, k);
      const sid = head.headers['x-sluice-stream-id'];
      // Half resume at once (the stream is still running: the rest comes live), half after a pause.
      if (k % 2 === 0) await sleep(150);
      const rest = await resumeById(gw.port, sid, idOf(events.at(-1)));
      assert.equal(rest.status, 200, rest.text);
      assert.equal(rest.headers['x-sluice-stream-id'], sid);
      assert.equal(rest.headers['x-sluice-replayed'], 'resume');
      assert.ok(rest.complete, 'the replay ends properly');
      const all = [...events, ...rest.events];
      assert.deepEqual(plain(all), want, `cut after event ${k}`);
      all.forEach((e, i) => assert.equal(idOf(e), `${sid}:${i + 1}`));
    }
    // A resume never re-sends the request: one upstream request per stream.
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, n - 1);
  });

  test('the request repeated with Last-Event-ID resumes too, without reaching the upstream', async () => {
    const tag = marker();
    const { head, events } = await openAndDrop(gw.port, streamRequest(tag, { tps: 50 }), 4);
    const opts = streamRequest(tag, { tps: 50 });
    opts.headers['last-event-id'] = idOf(events.at(-1));
    const rest = await request(gw.port, opts);
    assert.equal(rest.status, 200);
    assert.equal(rest.headers['x-sluice-stream-id'], head.headers['x-sluice-stream-id']);
    assert.equal(idOf(rest.events[0]), `${head.headers['x-sluice-stream-id']}:5`);
    assert.equal(rest.events.at(-1).event, 'message_stop');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1);
  });

  test('an empty Last-Event-ID is no id: the request is answered as usual', async () => {
    const tag = marker();
    const opts = streamRequest(tag);
    opts.headers['last-event-id'] = '';
    const res = await request(gw.port, opts);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-sluice-replayed'], undefined);
    assert.equal(res.events.at(-1).event, 'message_stop');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1);
  });

  test('concurrent resumers of a running stream each get exactly the rest', async () => {
    const tag = marker();
    const { head, events } = await openAndDrop(gw.port, streamRequest(tag, { tps: 30 }), 3);
    const sid = head.headers['x-sluice-stream-id'];
    const from = [1, 2, 3, 3, 0];
    const results = await Promise.all(from.map((f) => resumeById(gw.port, sid, f ? `${sid}:${f}` : undefined)));
    const whole = [...events, ...results[2].events];
    assert.equal(whole.at(-1).event, 'message_stop');
    results.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.deepEqual(plain(r.events), plain(whole.slice(from[i])), `resumer ${i} from ${from[i]}`);
    });
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1);
  });

  test('a finished stream stays replayable within the TTL; no Last-Event-ID replays it whole', async () => {
    const res = await request(gw.port, streamRequest(marker()));
    const sid = res.headers['x-sluice-stream-id'];
    await sleep(100);
    const tail = await resumeById(gw.port, sid, `${sid}:3`);
    assert.deepEqual(plain(tail.events), plain(res.events.slice(3)));
    const whole = await resumeById(gw.port, sid);
    assert.equal(whole.text, res.text, 'byte for byte, ids included');
  });

  test('clear errors: another key 403, an unknown stream 404, a malformed or foreign Last-Event-ID 400', async () => {
    const res = await request(gw.port, streamRequest(marker()));
    const sid = res.headers['x-sluice-stream-id'];
    assertAnthropicError(await resumeById(gw.port, sid, `${sid}:2`, { key: 'sk-ant-someone-else' }), 403, 'permission_error');
    const unknown = await resumeById(gw.port, 'st_doesnotexist00000000000', undefined);
    assertAnthropicError(unknown, 404, 'not_found_error');
    assert.match(unknown.json().error.message, /unknown or has expired/);
    assertAnthropicError(await resumeById(gw.port, sid, 'garbage'), 400, 'invalid_request_error');
    assertAnthropicError(await resumeById(gw.port, sid, 'st_other:3'), 400, 'invalid_request_error');
    assertAnthropicError(await resumeById(gw.port, sid, `${sid}:999`), 400, 'invalid_request_error');
  });
});

describe('transparent resume of an identical retry', () => {
  test('the retry after a drop is answered from the buffer, from the first event, with no new upstream request', async () => {
    const tag = marker();
    const { head, events } = await dropAndWait(gw, streamRequest(tag, { tps: 40 }), 5);
    const retry = await request(gw.port, streamRequest(tag, { tps: 40 }));
    assert.equal(retry.status, 200);
    assert.equal(retry.headers['x-sluice-replayed'], 'transparent');
    assert.equal(retry.headers['x-sluice-stream-id'], head.headers['x-sluice-stream-id']);
    assert.deepEqual(plain(retry.events.slice(0, 5)), plain(events));
    assert.equal(retry.events.at(-1).event, 'message_stop');
    stripEventIds(retry.text);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1, 'one upstream request');

    // Delivered whole now: the same prompt again is a deliberate repeat and gets a fresh answer.
    const again = await request(gw.port, streamRequest(tag, { tps: 40 }));
    assert.equal(again.headers['x-sluice-replayed'], undefined);
    assert.notEqual(again.headers['x-sluice-stream-id'], head.headers['x-sluice-stream-id']);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);
  });

  test('a stream delivered completely is never reused; another key, another body or the opt-out header get a fresh answer', async () => {
    const tag = marker();
    await request(gw.port, streamRequest(tag));
    await request(gw.port, streamRequest(tag));
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);

    const tag2 = marker();
    await openAndDrop(gw.port, streamRequest(tag2, { tps: 40 }), 4);
    const other = await request(gw.port, streamRequest(tag2, { tps: 40, key: 'sk-ant-other-client' }));
    assert.equal(other.headers['x-sluice-replayed'], undefined);
    const optOut = await request(gw.port, streamRequest(tag2, { tps: 40, extra: { 'x-sluice-replay': 'off' } }));
    assert.equal(optOut.headers['x-sluice-replayed'], undefined);
    const beta = await request(gw.port, streamRequest(tag2, { tps: 40, extra: { 'anthropic-beta': 'some-beta-2025-01-01' } }));
    assert.equal(beta.headers['x-sluice-replayed'], undefined, 'a different beta header is a different request');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag2)).length, 4);
  });

  test('a client that hangs up the moment it reads message_stop had it all: the same request again goes upstream', async () => {
    // The upstream lingers after message_stop (its body stays open until the idle timeout), so
    // the gateway sees the client leave while the stream still runs. The client had every event.
    const lingering = await startUsageGateway(mock.url, { provider: { timeouts: { idle_ms: 600 } } });
    try {
      const count = (await request(lingering.port, streamRequest(marker(), { tps: 0 }))).events.length;
      const tag = marker();
      const stall = { 'x-mock-fault': `stall-after-${count}` };
      const before = await detachedCount(lingering);
      const conn = await Conn.open(lingering.port);
      await conn.send(streamRequest(tag, { tps: 0, extra: stall }));
      const res = await conn.readResponse({
        timeoutMs: 15000,
        onEvent: (ev) => { if (ev.event === 'message_stop') conn.sock.destroy(); },
      });
      assert.equal(res.status, 200);
      assert.ok(await waitFor(async () => (await detachedCount(lingering)) > before, 3000, 10), 'the gateway saw the client leave');
      const again = await request(lingering.port, streamRequest(tag, { tps: 0, extra: stall }));
      assert.equal(again.headers['x-sluice-replayed'], undefined);
      assert.equal(again.events.at(-1).event, 'message_stop');
      assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);
    } finally {
      await lingering.stop();
    }
  });

  test('the ledger bills the stream once: the original row has the usage, the replay row says replayed at no cost', async () => {
    const tag = marker();
    const { head } = await dropAndWait(gw, streamRequest(tag, { tps: 40 }), 3);
    const sid = head.headers['x-sluice-stream-id'];
    const retry = await request(gw.port, streamRequest(tag, { tps: 40 }));
    assert.equal(retry.headers['x-sluice-replayed'], 'transparent');
    await resumeById(gw.port, sid, `${sid}:2`);
    const rows = await waitFor(() => {
      const r = ledgerRows(gw, `stream_id = '${sid}'`);
      return r.length === 3 ? r : null;
    }, 5000);
    assert.ok(rows, 'three ledger rows name the stream');
    const original = rows.filter((r) => r.replayed === 0);
    assert.equal(original.length, 1);
    assert.ok(original[0].output_tokens > 0 && original[0].cost_micros > 0, JSON.stringify(original[0]));
    for (const r of rows.filter((x) => x.replayed === 1)) {
      assert.equal(r.input_tokens + r.output_tokens + r.cost_micros, 0, JSON.stringify(r));
    }
    assert.deepEqual(rows.map((r) => r.route).sort(), ['/v1/messages', '/v1/messages', '/v1/streams']);
  });
});

describe('buffer limits', () => {
  let g; // a short TTL and grace period
  let small; // a 1 MiB memory cap
  before(async () => {
    g = await startUsageGateway(mock.url, { yaml: { streams: { buffer_ttl_ms: 600, grace_ms: 500 } } });
    small = await startUsageGateway(mock.url, { yaml: { streams: { buffer_memory_mb: 1 } } });
  });
  after(async () => {
    if (g) await g.stop();
    if (small) await small.stop();
  });

  test('an ended stream expires after the TTL: 404', async () => {
    const res = await request(g.port, streamRequest(marker()));
    const sid = res.headers['x-sluice-stream-id'];
    assert.equal((await resumeById(g.port, sid, `${sid}:1`)).status, 200);
    await sleep(1300);
    assertAnthropicError(await resumeById(g.port, sid, `${sid}:1`), 404, 'not_found_error');
  });

  test('the memory cap evicts the oldest streams first', async () => {
    // x-mock-reply is a header (64 KiB at most): 7 words of 8 KB make a ~57 KB stream; 25 of them
    // are 1.4 MB against a 1 MiB cap.
    const big = Array.from({ length: 7 }, (_, i) => `w${i}${'x'.repeat(8000)}`).join(' ');
    const sids = [];
    for (let i = 0; i < 25; i++) {
      const res = await request(small.port, streamRequest(marker(), { tps: 0, prompt: big }));
      assert.equal(res.events.at(-1)?.event, 'message_stop', res.text.slice(0, 300));
      sids.push(res.headers['x-sluice-stream-id']);
    }
    const first = await resumeById(small.port, sids[0], `${sids[0]}:1`);
    assertAnthropicError(first, 404, 'not_found_error');
    const last = await resumeById(small.port, sids[24], `${sids[24]}:1`);
    assert.equal(last.status, 200);
    assert.equal(last.events.at(-1).event, 'message_stop');
    const metrics = await (await fetch(`${small.url}/metrics`)).text();
    assert.ok(Number(/^sluice_replay_evictions_total (\d+)/m.exec(metrics)[1]) >= 2, metrics.match(/^sluice_replay.*$/gm).join('\n'));
    assert.ok(Number(/^sluice_replay_buffer_bytes (\d+)/m.exec(metrics)[1]) <= 1024 * 1024);
  });

  test('a stream nobody resumes is cancelled after the grace period, and logged as abandoned', async () => {
    const tag = marker();
    // 12 words at 4 a second: 3 s to finish; the client leaves after 3 events, grace is 500 ms.
    const { head } = await openAndDrop(g.port, streamRequest(tag, { tps: 4 }), 3);
    const rid = head.headers['x-sluice-request-id'];
    const line = await waitFor(() => g.accessLog().find((l) => l.request_id === rid), 2500);
    assert.ok(line, 'the request ended within the grace period plus a little');
    assert.equal(line.error, 'abandoned');
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    assert.match(metrics, /^sluice_streams_abandoned_total [1-9]/m);
    assert.match(metrics, /^sluice_streams_detached_total [1-9]/m);
    // What it generated meanwhile is still there for a late resume, ended by an error event.
    const sid = head.headers['x-sluice-stream-id'];
    const rest = await resumeById(g.port, sid, `${sid}:3`);
    assert.equal(rest.events.at(-1).event, 'error');
  });
});

describe('shutdown', () => {
  test('SIGTERM while a stream runs on for a client that left: the gateway stops at once and its ledger row is written', async () => {
    const g = await startUsageGateway(mock.url);
    const tag = marker();
    // 12 words at 2 a second: 6 s to finish; the grace period is 60 s.
    const { head } = await openAndDrop(g.port, streamRequest(tag, { tps: 2 }), 3);
    const rid = head.headers['x-sluice-request-id'];
    await sleep(300); // detached
    const t0 = Date.now();
    const exit = await g.stop('SIGTERM');
    const ms = Date.now() - t0;
    assert.equal(exit.code, 0, JSON.stringify(exit));
    assert.ok(ms < 4000, `stopped after ${ms} ms (the grace period is 60 s)`);
    const q = spawnSync('sqlite3', [join(g.dataDir, 'sluice.db'), `SELECT error FROM requests WHERE request_id = '${rid}'`], { encoding: 'utf8' });
    assert.equal(q.stdout.trim(), 'abandoned', 'the row is there, and says why the stream stopped');
  });
});
