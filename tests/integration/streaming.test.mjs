// Streams through the gateway: byte transparency against an upstream written here (raw HTTP/1.1
// over `net`, writes split at awkward places), broken upstream streams, and event-by-event
// delivery from a paced `sluice mock`.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startMock, startGateway, sleep } from '../support/harness.mjs';
import { API_HEADERS, Conn, buildRequest, messagesBody, postMessages, startRawUpstream, writeSlowly, waitFor, now, startRelay, stripEventIds } from './helpers.mjs';

// An SSE body in Anthropic's grammar, but written the way a strict relay finds hardest: CRLF
// line ends (and a few bare LF), comment lines, `event: ping`, an event type nobody knows, an
// event without `event:`, id/retry fields, `data:` without a space, multi-line data, and
// multi-byte UTF-8.
const EVENTS = [
  ': upstream comment before anything\r\n\r\n',
  'event: message_start\r\ndata: {"type":"message_start","message":{"id":"msg_raw_1","type":"message","role":"assistant","model":"claude-raw","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":1}}}\r\n\r\n',
  'event: content_block_start\r\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\r\n\r\n',
  'event: ping\r\ndata: {"type": "ping"}\r\n\r\n',
  ': keep-alive comment\r\n\r\n',
  'event: some_future_event\r\ndata: {"type":"some_future_event","payload":[1,2,3]}\r\n\r\n',
  'id: 41\r\nretry: 2500\r\nevent: content_block_delta\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\r\n\r\n',
  'event: content_block_delta\ndata:{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}\n\n',
  'event: content_block_delta\r\n: a comment inside an event\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" caf\u00e9 \u20ac\u{1F600}"}}\r\n\r\n',
  'data: an event without an event line\r\ndata: and a second data line\r\n\r\n',
  'event: content_block_stop\r\ndata: {"type":"content_block_stop","index":0}\r\n\r\n',
  'event: message_delta\r\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}\r\n\r\n',
  'event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n',
];
const SSE = Buffer.from(EVENTS.join(''));
// The same stream with bare CR line ends (legal SSE, §7.2), ending on a CR at EOF.
const SSE_CR = Buffer.from(EVENTS.join('').replace(/\r?\n/g, '\r'));

// Cut points: between every third CR and its LF, inside the UTF-8 of the emoji and the euro
// sign, and at a few arbitrary offsets.
function oddCuts(buf, extra = []) {
  const cuts = new Set(extra);
  let n = 0;
  for (let i = 0; i < buf.length - 1; i++) {
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a && n++ % 3 === 0) cuts.add(i + 1);
  }
  const emoji = buf.indexOf(Buffer.from('\u{1F600}'));
  const euro = buf.indexOf(Buffer.from('\u20ac'));
  cuts.add(emoji + 2);
  cuts.add(euro + 1);
  for (const off of [3, 17, 50, 51, 333, 334, 700]) if (off < buf.length) cuts.add(off);
  return [...cuts].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b);
}

function splitAt(buf, cuts) {
  const out = [];
  let prev = 0;
  for (const c of cuts) { out.push(buf.subarray(prev, c)); prev = c; }
  out.push(buf.subarray(prev));
  return out;
}

function chunked(pieces) {
  return Buffer.concat([
    ...pieces.map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')])),
    Buffer.from('0\r\n\r\n'),
  ]);
}

const SSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nrequest-id: req_raw_upstream\r\nanthropic-ratelimit-requests-remaining: 41\r\n';

// What the raw upstream does for a request is chosen by the test through `x-scenario`.
const scenarios = {
  // Chunked framing; the chunks split the SSE at odd places, and the TCP writes split the
  // chunked wire format at other odd places (inside chunk-size lines, between CR and LF).
  async chunked(sock) {
    const pieces = splitAt(SSE, oddCuts(SSE, [100, 101, 102]));
    const wire = Buffer.concat([Buffer.from(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n'), chunked(pieces)]);
    const cuts = [];
    for (let i = 0; i < wire.length - 1; i++) if (wire[i] === 0x0d && wire[i + 1] === 0x0a && i % 5 === 0) cuts.push(i + 1);
    for (let i = 7; i < wire.length; i += 97) cuts.push(i);
    await writeSlowly(sock, splitAt(wire, [...new Set(cuts)].sort((a, b) => a - b)), 4);
  },
  // No framing: the body ends when the upstream closes.
  async close(sock) {
    sock.write(SSE_HEAD + 'connection: close\r\n\r\n');
    await writeSlowly(sock, splitAt(SSE, oddCuts(SSE)), 8);
    sock.end();
  },
  async crOnly(sock) {
    sock.write(SSE_HEAD + 'connection: close\r\n\r\n');
    await writeSlowly(sock, splitAt(SSE_CR, [40, 41, 200, 201, 202, 500]), 8);
    sock.end();
  },
  async length(sock) {
    sock.write(SSE_HEAD + `content-length: ${SSE.length}\r\n\r\n`);
    await writeSlowly(sock, splitAt(SSE, oddCuts(SSE)), 8);
  },
  // Complete events, then a partial one, then a clean end of the body.
  async partialClose(sock) {
    sock.write(SSE_HEAD + 'connection: close\r\n\r\n');
    await writeSlowly(sock, [Buffer.from(PARTIAL_PREFIX.slice(0, 200)), Buffer.from(PARTIAL_PREFIX.slice(200)), Buffer.from(PARTIAL_TAIL)], 20);
    sock.end();
  },
  async partialChunked(sock) {
    sock.write(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n');
    await writeSlowly(sock, [chunked([Buffer.from(PARTIAL_PREFIX), Buffer.from(PARTIAL_TAIL)])], 20);
  },
  // The connection drops in the middle of a chunk.
  async partialReset(sock) {
    sock.write(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n');
    const body = Buffer.concat([Buffer.from(PARTIAL_PREFIX), Buffer.from(PARTIAL_TAIL)]);
    sock.write(`${(body.length + 50).toString(16)}\r\n`);
    sock.write(body);
    await sleep(50);
    sock.resetAndDestroy();
  },
  // As much as the gateway will take: FLOOD_TOTAL bytes of events, honouring backpressure.
  async flood(sock) {
    sock.write(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n');
    const event = Buffer.from(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${'x'.repeat(16 * 1024)}"}}\n\n`);
    const chunk = chunked([event]).subarray(0, -5);
    flood.written = 0;
    const start = chunked([Buffer.from(EVENTS[1] + EVENTS[2])]).subarray(0, -5);
    sock.write(start);
    while (flood.written < FLOOD_TOTAL && !sock.destroyed) {
      flood.written += event.length;
      if (!sock.write(chunk)) {
        await new Promise((r) => {
          const done = () => { sock.off('drain', done); sock.off('close', done); r(); };
          sock.on('drain', done);
          sock.on('close', done);
        });
      }
    }
    sock.end(chunked([Buffer.from(EVENTS.slice(10).join(''))]));
  },
  // An event every 100 ms for a long time; notes when the gateway hangs up.
  async endless(sock) {
    endless.closedAt = undefined;
    sock.once('close', () => { endless.closedAt = now(); });
    sock.write(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n');
    sock.write(chunked([Buffer.from(EVENTS[1] + EVENTS[2])]).subarray(0, -5));
    for (let i = 0; i < 150 && !sock.destroyed; i++) {
      await sleep(100);
      if (!sock.destroyed) sock.write(chunked([Buffer.from(EVENTS[6])]).subarray(0, -5));
    }
    sock.destroy();
  },
  // An "event" that never ends: 9 MiB without a line break.
  // After the commit point (content_block_start), an event that never ends.
  async hugeLine(sock) {
    await scenarios.hugeLineAfter(sock, EVENTS[1] + EVENTS[2]);
  },
  // Before the commit point (only the held preamble went out): nothing reached the client yet.
  async hugeLineEarly(sock) {
    await scenarios.hugeLineAfter(sock, EVENTS[1]);
  },
  async hugeLineAfter(sock, prefix) {
    sock.write(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n');
    sock.write(chunked([Buffer.from(prefix)]).subarray(0, -5));
    const piece = Buffer.alloc(256 * 1024, 'q');
    sock.write(chunked([Buffer.from('event: content_block_delta\ndata: ')]).subarray(0, -5));
    for (let i = 0; i < 36 && !sock.destroyed; i++) {
      if (!sock.write(chunked([piece]).subarray(0, -5))) {
        await new Promise((r) => {
          const done = () => { sock.off('drain', done); sock.off('close', done); r(); };
          sock.on('drain', done);
          sock.on('close', done);
        });
      }
    }
    await sleep(2000);
    sock.destroy();
  },
  // One event, then half of the next; the rest only after a pause.
  // A content event whose data is not JSON, after the commit point (EVENTS[2]) ...
  async malformedLate(sock) {
    sock.write(SSE_HEAD + 'connection: close\r\n\r\n');
    sock.write(EVENTS[1] + EVENTS[2] + EVENTS[3]);
    await sleep(150);  // let the gateway commit (send) the good events first
    sock.write('event: content_block_delta\r\ndata: {"type":"content_block_delta", not json\r\n\r\n');
    sock.end(EVENTS.slice(4).join(''));
  },
  // ... and before it: nothing has reached the client yet.
  async malformedEarly(sock) {
    sock.write(SSE_HEAD + 'connection: close\r\n\r\n');
    sock.write(EVENTS[1] + 'event: content_block_start\r\ndata: {oops\r\n\r\n');
    sock.end(EVENTS.slice(3).join(''));
  },
  async pause(sock) {
    sock.write(SSE_HEAD + 'transfer-encoding: chunked\r\n\r\n');
    // message_start + content_block_start: the commit point, so both go out at once.
    const first = Buffer.from(EVENTS[1] + EVENTS[2]);
    const second = Buffer.from(EVENTS[3]);
    const half = 30;
    sock.write(chunked([first]).subarray(0, -5)); // without the last chunk
    sock.write(chunked([second.subarray(0, half)]).subarray(0, -5));
    await sleep(700);
    const rest = Buffer.concat([second.subarray(half), ...EVENTS.slice(4).map((e) => Buffer.from(e))]);
    sock.write(chunked([rest]));
  },
};

const FLOOD_TOTAL = 128 * 1024 * 1024;
const flood = { written: 0 };
const endless = { closedAt: undefined };

const PARTIAL_PREFIX = EVENTS.slice(0, 8).join('');
const PARTIAL_TAIL = 'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de';

let raw;
let gwRaw;
let mock;
let gwMock;
let gwIds; // in front of the raw upstream with resumable streams on (the default)

before(async () => {
  raw = await startRawUpstream((sock, req) => {
    const s = scenarios[req.headers['x-scenario']];
    if (!s) { sock.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'); return; }
    s(sock, req).catch(() => {});
  });
  mock = await startMock();
  // Resumable streams off on the raw upstream's gateway: these tests check that the bytes are the
  // upstream's, exactly; with resume on (the default) the one change is an id line per event,
  // checked by its own test below.
  [gwRaw, gwMock, gwIds] = await Promise.all([
    startRelay(raw.url, { extra: 'streams:\n  resume: false\n' }), startRelay(mock.url), startRelay(raw.url)]);
});

after(async () => {
  await Promise.all([gwRaw, gwMock, gwIds].filter(Boolean).map((g) => g.stop()));
  if (mock) await mock.stop();
  if (raw) await raw.close();
});

const streamBody = messagesBody('raw', { stream: true });

describe('byte transparency', () => {
  for (const scenario of ['chunked', 'close', 'length']) {
    test(`the client receives exactly the upstream's SSE bytes (${scenario} upstream body)`, async () => {
      const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': scenario } });
      assert.equal(res.status, 200);
      assert.ok(res.complete, 'response body ended properly');
      assert.equal(res.headers['request-id'], 'req_raw_upstream');
      assert.equal(res.headers['anthropic-ratelimit-requests-remaining'], '41');
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.match(res.headers['x-sluice-request-id'], /^req_/);
      if (!res.body.equals(SSE)) {
        // Show where they part.
        let i = 0;
        while (i < SSE.length && res.body[i] === SSE[i]) i++;
        assert.fail(`bodies differ at byte ${i} (got ${res.body.length} bytes, want ${SSE.length}):\n` +
          `got:  ${JSON.stringify(res.body.subarray(Math.max(0, i - 40), i + 40).toString('latin1'))}\n` +
          `want: ${JSON.stringify(SSE.subarray(Math.max(0, i - 40), i + 40).toString('latin1'))}`);
      }
      assert.ok(!res.events.some((e) => e.event === 'error'));
      assert.equal(res.events.at(-1).event, 'message_stop');
      assert.equal(res.events.length, 11);
    });
  }

  test('with resumable streams on (the default), the one change is an id line at the end of each event', async () => {
    for (const scenario of ['chunked', 'crOnly']) {
      const res = await postMessages(gwIds.port, { body: streamBody, headers: { 'x-scenario': scenario } });
      assert.equal(res.status, 200);
      const sid = res.headers['x-sluice-stream-id'];
      assert.match(sid, /^st_/);
      const want = scenario === 'chunked' ? SSE : SSE_CR;
      assert.equal(JSON.stringify(stripEventIds(res.body.toString('latin1'))), JSON.stringify(want.toString('latin1')));
      // Each event's last line is its id, so a client's Last-Event-ID is sluice's even where the
      // upstream sent ids of its own.
      for (const [i, e] of res.events.entries()) assert.match(e.raw, new RegExp(`id: ${sid}:${i + 1}\\n(\\r\\n|\\r|\\n)$`));
    }
  });

  test('bare CR line ends are relayed unchanged, including the final CR before EOF', async () => {
    const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': 'crOnly' } });
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    assert.equal(JSON.stringify(res.body.toString('latin1')), JSON.stringify(SSE_CR.toString('latin1')));
  });

  for (const scenario of ['partialClose', 'partialChunked', 'partialReset']) {
    test(`a partial trailing event is dropped and replaced by one error event (${scenario})`, async () => {
      const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': scenario } });
      assert.equal(res.status, 200);
      assert.ok(res.complete, 'the gateway ends its own response properly');
      const prefix = Buffer.from(PARTIAL_PREFIX);
      assert.ok(res.body.subarray(0, prefix.length).equals(prefix),
        `complete events relayed unchanged; got ${JSON.stringify(res.text.slice(0, prefix.length + 80))}`);
      const rest = res.body.subarray(prefix.length).toString('utf8');
      assert.ok(!rest.includes('text_de'), `no partial bytes: ${JSON.stringify(rest)}`);
      assert.match(rest, /^event: error\r?\ndata: [^\r\n]+\r?\n\r?\n$/, `exactly one error event: ${JSON.stringify(rest)}`);
      const err = JSON.parse(rest.split(/\r?\n/)[1].slice('data: '.length));
      assert.equal(err.type, 'error');
      assert.equal(err.error.type, 'api_error');
      assert.equal(res.events.filter((e) => e.event === 'error').length, 1);
      assert.ok(!res.events.some((e) => e.event === 'message_stop'));
    });
  }

  test('an event that grows past 8 MiB without ending: one error event, none of its bytes', async () => {
    const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': 'hugeLine' } }, { timeoutMs: 15000 });
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    assert.deepEqual(res.events.map((e) => e.event), ['message_start', 'content_block_start', 'error']);
    assert.ok(!res.text.includes('qqqq'));
    assert.ok(res.body.length < 4096, `${res.body.length} bytes`);
  });

  test('a content event whose data is not JSON ends the stream: the good events, then one error event', async () => {
    const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': 'malformedLate' } });
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    assert.deepEqual(res.events.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'error']);
    assert.equal(JSON.parse(res.events.at(-1).data).error.type, 'api_error');
    assert.ok(!res.text.includes('not json'), 'the malformed bytes are not relayed');
    assert.ok(res.body.subarray(0, Buffer.byteLength(EVENTS[1] + EVENTS[2] + EVENTS[3])).equals(Buffer.from(EVENTS[1] + EVENTS[2] + EVENTS[3])),
      'the events before it are relayed byte for byte');
  });

  test('a malformed event before the first content event: nothing was sent, so a 502 api_error', async () => {
    const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': 'malformedEarly' } });
    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.text).error.type, 'api_error');
    assert.match(JSON.parse(res.text).error.message, /malformed/);
  });

  test('the same before the first content event: nothing was sent, so a 502 api_error', async () => {
    const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': 'hugeLineEarly' } }, { timeoutMs: 15000 });
    assert.equal(res.status, 502);
    const body = JSON.parse(res.text);
    assert.equal(body.error.type, 'api_error');
    assert.match(body.error.message, /8 MiB/);
    assert.ok(!res.text.includes('qqqq'));
  });

  test('the preamble is held to the first content event; then a complete event is relayed at once and a partial one held until it completes', async () => {
    let startAt;
    let first;
    const res = await postMessages(gwRaw.port, { body: streamBody, headers: { 'x-scenario': 'pause' } }, {
      onHead: () => { startAt = now(); },
      onEvent: (ev) => { if (!first) first = ev; },
    });
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    const expected = Buffer.from(EVENTS.slice(1).join(''));
    assert.ok(res.body.equals(expected), 'bytes unchanged');
    assert.equal(first.event, 'message_start');
    // message_start and content_block_start came while the upstream was still pausing (700 ms) ...
    const second = res.pieces.find((p) => p.bytes.includes('content_block_delta'));
    assert.ok(second.t - first.t >= 500, `message_start at ${first.t - startAt} ms, next event at ${second.t - startAt} ms`);
    // ... and no byte of the half-sent third event reached the client before the pause ended.
    const before = res.pieces.filter((p) => p.t < second.t).map((p) => p.bytes.toString()).join('');
    assert.equal(before, EVENTS[1] + EVENTS[2]);
  });
});

describe('events arrive one by one', () => {
  test('paced mock (20 tokens/s): the first text delta arrives long before message_stop', async () => {
    const prompt = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen';
    const tStart = now();
    const res = await postMessages(gwMock.port, {
      body: messagesBody(prompt, { stream: true }),
      headers: { 'x-mock-tokens-per-second': '20' },
    }, { timeoutMs: 20000 });
    assert.equal(res.status, 200);
    const deltas = res.events.filter((e) => e.event === 'content_block_delta');
    assert.equal(deltas.length, 24); // 6 greeting words + 18
    const stop = res.events.find((e) => e.event === 'message_stop');
    assert.ok(stop, 'stream finished');
    const duration = stop.t - tStart;
    const lead = stop.t - deltas[0].t;
    assert.ok(duration >= 800, `a 24-token answer at 20 tokens/s takes over a second (took ${duration.toFixed(0)} ms)`);
    assert.ok(lead >= 0.4 * duration,
      `first delta ${(deltas[0].t - tStart).toFixed(0)} ms, message_stop ${duration.toFixed(0)} ms after the request`);
    // The deltas came in many separate reads, spread over the stream.
    const distinct = new Set(deltas.map((d) => Math.round(d.t / 10))).size;
    assert.ok(distinct >= 10, `deltas arrived in ${distinct} distinct 10 ms slots`);
  });
});

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

describe('flow control', () => {
  test('a client that does not read holds the upstream back (backpressure, bounded memory)', async (t) => {
    const rssBefore = rssBytes(gwRaw.proc.pid);
    const sock = net.connect(gwRaw.port, '127.0.0.1');
    await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
    sock.pause(); // read nothing for now
    sock.write(buildRequest({ headers: { ...API_HEADERS, 'x-scenario': 'flood' }, body: streamBody }));
    // Wait until the upstream is stuck (its writes stop advancing).
    let last = -1;
    await waitFor(() => { const stuck = flood.written > 0 && flood.written === last; last = flood.written; return stuck; }, 8000, 300);
    const writtenWhilePaused = flood.written;
    const rssGrowth = rssBytes(gwRaw.proc.pid) - rssBefore;
    t.diagnostic(`upstream wrote ${(writtenWhilePaused / 2 ** 20).toFixed(1)} MiB while the client was paused; gateway RSS +${(rssGrowth / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(writtenWhilePaused < FLOOD_TOTAL / 2,
      `the upstream wrote ${(writtenWhilePaused / 2 ** 20).toFixed(1)} MiB while the client read nothing`);
    assert.ok(rssGrowth < 64 * 2 ** 20, `gateway RSS grew by ${(rssGrowth / 2 ** 20).toFixed(1)} MiB`);

    // Now read everything: all of it arrives and the stream ends properly.
    let received = 0;
    let tail = Buffer.alloc(0);
    const ended = new Promise((resolve) => {
      sock.on('data', (d) => {
        received += d.length;
        tail = Buffer.concat([tail, d]).subarray(-200);
        if (tail.toString('latin1').endsWith('0\r\n\r\n') && tail.includes('message_stop')) resolve(true);
      });
      sock.on('close', () => resolve(false));
      setTimeout(() => resolve(false), 60000).unref();
    });
    sock.resume();
    const ok = await ended;
    sock.destroy();
    assert.ok(ok, `stream ended with message_stop after ${(received / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(received > FLOOD_TOTAL, `received ${received} bytes`);
    assert.ok(flood.written >= FLOOD_TOTAL);
  });

  test('a client that goes away mid-stream makes the gateway hang up on the upstream', async () => {
    const conn = await Conn.open(gwRaw.port);
    await conn.send({ headers: { ...API_HEADERS, 'x-scenario': 'endless' }, body: streamBody });
    const i = await conn.needText('text_delta', now() + 5000);
    assert.ok(i >= 0, 'the stream started');
    const requestId = /x-sluice-request-id: (\S+)/i.exec(conn.buf.toString('latin1'))[1];
    const tGone = now();
    conn.sock.destroy();
    const closedAt = await waitFor(() => endless.closedAt, 5000, 20);
    assert.ok(closedAt, 'the upstream connection was closed');
    assert.ok(closedAt - tGone < 2000, `upstream closed ${(closedAt - tGone).toFixed(0)} ms after the client left`);
    const line = await waitFor(() => gwRaw.accessLog().find((l) => l.request_id === requestId), 3000);
    assert.ok(line, 'logged');
    assert.equal(line.error, 'client_gone');
    assert.equal(line.stream, true);
  });

  test('30 concurrent streams each get their own answer', async () => {
    const prompts = Array.from({ length: 30 }, (_, i) => `concurrent stream number ${i} with words ${'w'.repeat(i + 1)}`);
    const results = await Promise.all(prompts.map((p, i) => postMessages(gwMock.port, {
      body: messagesBody(p, { stream: i % 3 !== 0 }),
      headers: { 'x-mock-tokens-per-second': '200' },
    }, { timeoutMs: 30000 })));
    results.forEach((res, i) => {
      assert.equal(res.status, 200);
      const text = i % 3 !== 0
        ? res.events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('')
        : res.json().content[0].text;
      assert.equal(text, `Hello from sluice mock! You said: ${prompts[i]}`);
      if (i % 3 !== 0) assert.equal(res.events.at(-1).event, 'message_stop');
    });
  });
});
