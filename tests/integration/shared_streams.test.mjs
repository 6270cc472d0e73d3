// Replay buffers shared through Redis (issue 10 item 3, docs/deployment.md): three `sluice
// serve` replicas with streams.engine: redis and one real redis-server. A stream started on one
// replica is resumed with Last-Event-ID through another, live while it runs; only its owner may;
// and when the replica producing a stream is killed (SIGKILL) mid-stream, the replica the client
// comes back to takes the stream over and continues it, so the client gets the unbroken text,
// with ids that carry on, one more upstream request, and a ledger row for what was consumed. A
// client that retries the identical request instead (Claude Code) on another replica is answered
// from the stream its connection dropped, through Redis, the same way.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock } from '../support/harness.mjs';
import { startRedis } from '../support/servers.mjs';
import {
  API_HEADERS, messagesBody, request, mockRequestsWith, waitFor, accumulate, stripEventIds, openAndDrop,
} from './helpers.mjs';
import { startUsageGateway, join, SONNET } from './usage_helpers.mjs';

const WORDS = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
let mock;
let redis;
let replicas = [];
let seq = 0;
const marker = () => `shared-${process.pid}-${++seq}`;

// A replica: passthrough keys (the owner is the client's credential), recovery on, streams
// mirrored to Redis.
function startReplica() {
  return startUsageGateway(mock.url, {
    yaml: {
      streams: { engine: 'redis', recovery: true },
      redis: { url: redis.url, timeout_ms: 500 },
      auth: { mode: 'passthrough' },
    },
    provider: { api_key: '', breaker: { consecutive_failures: 1000000, min_requests: 1000000 } },
  });
}

// The same without recovery: a stream whose replica died cannot be continued.
function startReplicaWithoutRecovery() {
  return startUsageGateway(mock.url, {
    yaml: { streams: { engine: 'redis' }, redis: { url: redis.url, timeout_ms: 500 }, auth: { mode: 'passthrough' } },
    provider: { api_key: '' },
  });
}

before(async () => {
  [mock, redis] = await Promise.all([startMock(), startRedis()]);
  replicas = await Promise.all([startReplica(), startReplica(), startReplica()]);
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await Promise.all([mock?.stop(), redis?.stop()]);
});

function streamRequest(tag, { tps = 40, key = API_HEADERS['x-api-key'] } = {}) {
  return {
    method: 'POST',
    path: '/v1/messages',
    headers: { ...API_HEADERS, 'x-api-key': key, 'x-test-marker': tag, 'x-mock-reply': WORDS, 'x-mock-tokens-per-second': String(tps) },
    body: messagesBody(`shared stream ${tag}`, { stream: true, model: SONNET, max_tokens: 400 }),
  };
}

const idOf = (ev) => /^id: (\S+)$/m.exec(ev.raw)?.[1];
const seqOf = (ev) => Number(idOf(ev).split(':')[1]);

function resumeThrough(port, streamId, lastId, key = API_HEADERS['x-api-key']) {
  return request(port, {
    method: 'GET', path: `/v1/streams/${streamId}`, headers: { 'x-api-key': key, 'last-event-id': lastId },
  }, { timeoutMs: 20000 });
}

// Streams filed for an identical retry, by every replica.
async function filedCount() {
  const reply = await redis.command('ZCARD', 'sluice:rs:abandoners');
  return Number(/^:(\d+)/.exec(reply)?.[1] ?? 0);
}

async function redisCount(id) {
  const reply = await redis.command('LLEN', `sluice:rs:${id}:ev`);
  return Number(/^:(\d+)/.exec(reply)?.[1] ?? 0);
}

describe('a stream resumed through another replica', () => {
  test('while it runs: the events after Last-Event-ID, then live to message_stop; no new upstream request', async () => {
    const [a, b, c] = replicas;
    const reference = accumulate((await request(a.port, streamRequest(marker(), { tps: 0 }))).events);
    const tag = marker();
    const { head, events } = await openAndDrop(a.port, streamRequest(tag), 6);
    const sid = head.headers['x-sluice-stream-id'];
    assert.match(sid, /^st_/);
    const res = await resumeThrough(b.port, sid, idOf(events.at(-1)));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-sluice-replayed'], 'resume');
    assert.equal(seqOf(res.events[0]), 7, 'the first event after Last-Event-ID');
    assert.equal(res.events.at(-1).event, 'message_stop');
    const all = [...events, ...res.events];
    stripEventIds(all.map((e) => e.raw).join(''));
    assert.equal(accumulate(all).text, reference.text);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1, 'one upstream request');

    // Ended now, still within the TTL: a third replica replays the rest too.
    const again = await resumeThrough(c.port, sid, idOf(events.at(-1)));
    assert.deepEqual(again.events.map((e) => e.raw), res.events.map((e) => e.raw));

    // Its client had it whole through B: the identical request, even on A whose own index filed
    // the stream when the client left, is a deliberate repeat and gets a fresh answer.
    const repeat = await request(a.port, streamRequest(tag), { timeoutMs: 20000 });
    assert.equal(repeat.status, 200);
    assert.equal(repeat.headers['x-sluice-replayed'], undefined);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);
  });

  test('only the credential that started it may resume it; an unknown stream is 404 on every replica', async () => {
    const [a, b] = replicas;
    const { head, events } = await openAndDrop(a.port, streamRequest(marker(), { tps: 0 }), 3);
    const sid = head.headers['x-sluice-stream-id'];
    // (Resumed at once: the replica looks for a stream it does not know yet for a moment, while
    // the mirror catches up.)
    const other = await resumeThrough(b.port, sid, idOf(events.at(-1)), 'sk-ant-someone-else');
    assert.equal(other.status, 403, other.text);
    assert.equal(JSON.parse(other.text).error.type, 'permission_error');
    const unknown = await resumeThrough(b.port, 'st_0000000000000000000000', 'st_0000000000000000000000:1');
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.text).error.type, 'not_found_error');
    // One access-log line per refused resume.
    for (const r of [other, unknown]) {
      const id = r.headers['x-sluice-request-id'];
      const lines = await waitFor(() => {
        const found = b.accessLog().filter((l) => l.request_id === id);
        return found.length ? found : null;
      }, 3000);
      assert.equal(lines.length, 1, JSON.stringify(lines));
    }
  });
});

describe('an identical retry on another replica (clients that retry instead of resuming)', () => {
  // Claude Code and the SDKs send the same request again when a stream drops, after a backoff of
  // about half a second; behind a load balancer it may land on any replica. (The replicas learn
  // of a stream filed elsewhere within 100 ms.)
  const backoff = () => new Promise((r) => setTimeout(r, 400));

  test('is answered from the abandoned stream in Redis, from its first event, live to the end; no new upstream request', async () => {
    const [a, b, c] = replicas;
    const reference = accumulate((await request(a.port, streamRequest(marker(), { tps: 0 }))).events);
    const tag = marker();
    const opts = streamRequest(tag);
    const filedBefore = await filedCount();
    const { head } = await openAndDrop(a.port, opts, 6);
    const sid = head.headers['x-sluice-stream-id'];
    assert.ok(await waitFor(async () => (await filedCount()) > filedBefore, 3000, 10), 'A filed the stream');
    await backoff();
    const retry = await request(b.port, opts, { timeoutMs: 20000 });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers['x-sluice-replayed'], 'transparent');
    assert.equal(retry.headers['x-sluice-stream-id'], sid);
    assert.equal(seqOf(retry.events[0]), 1, 'from the first event: the client dropped what it had');
    retry.events.forEach((e, i) => assert.equal(seqOf(e), i + 1));
    assert.equal(retry.events.at(-1).event, 'message_stop');
    assert.equal(accumulate(retry.events).text, reference.text);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1, 'one upstream request in all');

    // Delivered whole now: the same request again is a deliberate repeat and gets a fresh answer,
    // on the replica that produced the stream too.
    await backoff();
    const repeat = await request(a.port, opts, { timeoutMs: 20000 });
    assert.equal(repeat.status, 200);
    assert.equal(repeat.headers['x-sluice-replayed'], undefined);
    assert.notEqual(repeat.headers['x-sluice-stream-id'], sid);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);
  });

  test('another credential\'s identical request goes upstream', async () => {
    const [a, b] = replicas;
    const tag = marker();
    const opts = streamRequest(tag);
    const filedBefore = await filedCount();
    const { head } = await openAndDrop(a.port, opts, 4);
    assert.ok(await waitFor(async () => (await filedCount()) > filedBefore, 3000, 10), 'A filed the stream');
    await backoff();
    const other = await request(b.port, { ...opts, headers: { ...opts.headers, 'x-api-key': 'sk-ant-someone-else' } },
      { timeoutMs: 20000 });
    assert.equal(other.status, 200);
    assert.equal(other.headers['x-sluice-replayed'], undefined);
    assert.notEqual(other.headers['x-sluice-stream-id'], head.headers['x-sluice-stream-id']);
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2);
  });

  test('when the replica that produced it died, the retry takes the stream over and continues it', async () => {
    const [a, b] = replicas;
    const reference = accumulate((await request(b.port, streamRequest(marker(), { tps: 0 }))).events);
    const tag = marker();
    const opts = streamRequest(tag, { tps: 25 });
    const filedBefore = await filedCount();
    const { head } = await openAndDrop(a.port, opts, 10);
    const sid = head.headers['x-sluice-stream-id'];
    assert.ok(await waitFor(async () => (await redisCount(sid)) >= 10, 3000, 10));
    assert.ok(await waitFor(async () => (await filedCount()) > filedBefore, 3000, 10), 'A filed the stream before it died');
    await a.stop('SIGKILL');
    replicas[0] = await startReplica();
    await backoff();
    const retry = await request(b.port, opts, { timeoutMs: 20000 });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers['x-sluice-replayed'], 'transparent');
    assert.equal(retry.events.at(-1).event, 'message_stop', retry.text.slice(-400));
    assert.ok(!retry.events.some((e) => e.event === 'error'), retry.text.slice(-400));
    retry.events.forEach((e, i) => assert.equal(seqOf(e), i + 1, 'one stream, ids from 1'));
    assert.equal(accumulate(retry.events).text, reference.text, 'the text of the unbroken stream');
    assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2, 'the original request and one continuation');
  });
});

describe('an identical retry after the producing replica died, recovery off', () => {
  test('goes upstream afresh rather than to a stream that can only end in an error', async () => {
    const [a, b] = await Promise.all([startReplicaWithoutRecovery(), startReplicaWithoutRecovery()]);
    try {
      const tag = marker();
      const opts = streamRequest(tag, { tps: 25 });
      const filedBefore = await filedCount();
      const { head } = await openAndDrop(a.port, opts, 6);
      assert.ok(await waitFor(async () => (await filedCount()) > filedBefore, 3000, 10), 'A filed the stream');
      await a.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 3500)); // its heartbeat (3 s) has expired
      const retry = await request(b.port, opts, { timeoutMs: 20000 });
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.headers['x-sluice-replayed'], undefined);
      assert.notEqual(retry.headers['x-sluice-stream-id'], head.headers['x-sluice-stream-id']);
      assert.equal(retry.events.at(-1).event, 'message_stop');
      assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 2, 'asked upstream again');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('a replica killed mid-stream', () => {
  test('the replica the client comes back to takes the stream over and continues it: the unbroken text, ids carrying on', async () => {
    const [a, b] = replicas;
    const reference = accumulate((await request(b.port, streamRequest(marker(), { tps: 0 }))).events);
    const tag = marker();
    const { head, events } = await openAndDrop(a.port, streamRequest(tag, { tps: 25 }), 10);
    const sid = head.headers['x-sluice-stream-id'];
    // The mirror runs a moment behind the client; the kill comes once Redis has what it got.
    assert.ok(await waitFor(async () => (await redisCount(sid)) >= 10, 3000, 10), 'Redis has the events the client got');
    await a.stop('SIGKILL');
    replicas[0] = await startReplica(); // the cluster keeps three (after() stops this one)

    const t0 = Date.now();
    const res = await resumeThrough(b.port, sid, idOf(events.at(-1)));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.events.at(-1).event, 'message_stop', res.text.slice(-400));
    assert.ok(!res.events.some((e) => e.event === 'error'), res.text.slice(-400));
    const ids = res.events.map(seqOf);
    assert.equal(ids[0], 11);
    ids.forEach((n, i) => assert.equal(n, 11 + i, 'ids carry on by one'));
    const all = [...events, ...res.events];
    assert.equal(accumulate(all).text, reference.text, 'the text of the unbroken stream');
    console.log(`taken over and finished ${Date.now() - t0} ms after the resume (the dead replica's heartbeat lasts 3 s)`);

    const upstream = await mockRequestsWith(mock, 'x-test-marker', tag);
    assert.equal(upstream.length, 2, 'the original request and one continuation');
    const prefill = upstream[1].body.messages.at(-1);
    assert.equal(prefill.role, 'assistant');
    assert.ok(reference.text.startsWith(prefill.content.trimEnd()), prefill.content);

    // The row of the replica that continued it bills both attempts (the dead one wrote none).
    const row = await waitFor(() => {
      const q = spawnSync('sqlite3', ['-json', join(b.dataDir, 'sluice.db'),
        `SELECT stream_id, replayed, recoveries, input_tokens, output_tokens, estimated FROM requests WHERE stream_id = '${sid}' AND replayed = 0`],
      { encoding: 'utf8' });
      return q.stdout.trim() ? JSON.parse(q.stdout)[0] : null;
    }, 5000);
    assert.ok(row, 'a ledger row for the continued stream');
    assert.equal(row.recoveries, 1);
    assert.ok(row.input_tokens > 0 && row.output_tokens > 0, JSON.stringify(row));
    assert.equal(row.estimated, 1, 'the killed attempt never reported its output');

    // Taken over, the stream is resumable through any replica, to the end.
    const later = await resumeThrough(replicas[2].port, sid, idOf(events.at(-1)));
    assert.deepEqual(later.events.map((e) => e.raw), res.events.map((e) => e.raw));
  });
});

describe('a replica killed after its stream\'s last event', () => {
  test('the stream is whole: the replica taking it over ends it cleanly, without asking upstream again', async () => {
    const [, b, c] = replicas;
    const count = (await request(b.port, streamRequest(marker(), { tps: 0 }))).events.length;
    const tag = marker();
    // The upstream lingers after message_stop: the producer has sent every event but not ended.
    const opts = streamRequest(tag, { tps: 0 });
    opts.headers['x-mock-fault'] = `stall-after-${count}`;
    const victim = await startReplica();
    try {
      const { head, events } = await openAndDrop(victim.port, opts, 3);
      const sid = head.headers['x-sluice-stream-id'];
      assert.ok(await waitFor(async () => (await redisCount(sid)) >= count, 3000, 10), 'every event mirrored');
      await victim.stop('SIGKILL');
      const res = await resumeThrough(c.port, sid, idOf(events.at(-1)));
      assert.equal(res.status, 200);
      assert.equal(res.events.at(-1).event, 'message_stop', res.text.slice(-300));
      assert.ok(!res.events.some((e) => e.event === 'error'));
      assert.equal(res.events.length, count - 3);
      assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1, 'no continuation');
    } finally {
      await victim.stop();
    }
  });
});

describe('a replica killed mid-stream, recovery off', () => {
  test('the resumed stream ends with an error event after the events Redis has, never as if complete', async () => {
    const [a, b] = await Promise.all([startReplicaWithoutRecovery(), startReplicaWithoutRecovery()]);
    try {
      const tag = marker();
      const { head, events } = await openAndDrop(a.port, streamRequest(tag, { tps: 25 }), 8);
      const sid = head.headers['x-sluice-stream-id'];
      assert.ok(await waitFor(async () => (await redisCount(sid)) >= 8, 3000, 10));
      await a.stop('SIGKILL');
      const res = await resumeThrough(b.port, sid, idOf(events.at(-1)));
      assert.equal(res.status, 200);
      const last = res.events.at(-1);
      assert.equal(last.event, 'error', res.text.slice(-300));
      assert.match(JSON.parse(last.data).error.message, /replica producing the stream stopped.*recovery is off/);
      assert.ok(!res.events.some((e) => e.event === 'message_stop'));
      assert.equal((await mockRequestsWith(mock, 'x-test-marker', tag)).length, 1, 'nothing asked upstream again');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('Redis unreachable', () => {
  test('streams go on and stay resumable on their own replica; another replica\'s stream is a clear 503', async () => {
    const { freePort } = await import('../support/servers.mjs');
    const deadPort = await freePort(); // nothing listens there
    const lonely = await startUsageGateway(mock.url, {
      yaml: { streams: { engine: 'redis' }, redis: { url: `redis://127.0.0.1:${deadPort}/0`, timeout_ms: 200 }, auth: { mode: 'passthrough' } },
      provider: { api_key: '' },
    });
    try {
      const { head, events } = await openAndDrop(lonely.port, streamRequest(marker(), { tps: 0 }), 4);
      const sid = head.headers['x-sluice-stream-id'];
      const local = await resumeThrough(lonely.port, sid, idOf(events.at(-1)));
      assert.equal(local.status, 200);
      assert.equal(local.events.at(-1).event, 'message_stop');
      const foreign = await resumeThrough(lonely.port, 'st_1111111111111111111111', 'st_1111111111111111111111:2');
      assert.equal(foreign.status, 503, foreign.text);
      assert.match(JSON.parse(foreign.text).error.message, /shared replay buffers \(Redis\) are unreachable/);
      const metrics = await (await fetch(`${lonely.url}/metrics`)).text();
      assert.match(metrics, /^sluice_replay_redis_up 0$/m);
    } finally {
      await lonely.stop();
    }
  });
});
