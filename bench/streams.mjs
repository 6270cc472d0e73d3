#!/usr/bin/env node
// Holds N paced SSE streams open through a proxy at the same time, for bench/run.sh's
// memory-per-stream measurement. Node 20 built-ins only.
//
//   node bench/streams.mjs --url http://127.0.0.1:PORT/v1/messages [--n 1000] [--hold 8]
//        [--rate 2] [--words 400] [--ramp 100] [--timeout 90]
//
// Opens the streams (at most --ramp of them not yet answered at a time, so the proxy's
// accept queue is not flooded), waits until every stream has received its first SSE event,
// prints `READY open=<n> ...`, keeps them all open for --hold seconds (the caller samples the
// proxy's RSS meanwhile), checks that every stream kept receiving events while held (a
// proxy that buffered would fail this), then closes them all and prints `DONE ...`.
// The caller raises `ulimit -n` (Node cannot). Exit status 0 when all N streams were open.
import http from 'node:http';

function parseArgs(argv) {
  const o = { url: '', n: 1000, hold: 8, rate: 2, words: 400, ramp: 100, timeout: 90 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    const v = argv[++i];
    o[k] = k === 'url' ? v : Number(v);
  }
  if (!o.url) throw new Error('--url is required');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const url = new URL(opt.url);
const agent = new http.Agent({ keepAlive: false, maxSockets: opt.n, maxTotalSockets: opt.n });
// A long reply paced at --rate tokens/s: one word is one token, so the stream lasts
// words/rate seconds (400 / 2 = 200 s), far longer than the ramp plus the hold.
const reply = Array.from({ length: opt.words }, (_, i) => `w${i}`).join(' ');
const body = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: opt.words * 2 + 64,
  stream: true,
  messages: [{ role: 'user', content: 'bench: hold this stream open' }],
});
const headers = {
  'content-type': 'application/json',
  'content-length': Buffer.byteLength(body),
  'anthropic-version': '2023-06-01',
  'x-api-key': 'sk-ant-bench-not-a-real-key',
  'x-mock-tokens-per-second': String(opt.rate),
  'x-mock-reply': reply,
};

const streams = []; // { req, events, ready, failed, ended }
let started = 0;
let waiting = 0; // started, no first event yet
let ready = 0;
let failed = 0;
let readyPrinted = false;
const t0 = Date.now();
const failures = new Map(); // reason -> count

function fail(s, reason) {
  if (s.failed) return;
  s.failed = true;
  failed++;
  if (!s.ready) waiting--;
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
  pump();
}

function open() {
  const s = { events: 0, ready: false, failed: false, tail: '' };
  streams.push(s);
  started++;
  waiting++;
  const req = http.request(
    { host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', agent, headers },
    (res) => {
      if (res.statusCode !== 200) {
        fail(s, `status ${res.statusCode}`);
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        // Count complete SSE events (blank-line terminated); the tail carries a "\n"
        // that ended the previous chunk.
        const text = s.tail + chunk;
        let i = -1;
        while ((i = text.indexOf('\n\n', i + 1)) !== -1) { s.events++; i++; }
        s.tail = text.endsWith('\n') ? '\n' : '';
        if (!s.ready && s.events > 0) {
          s.ready = true;
          ready++;
          waiting--;
          pump();
        }
      });
      res.on('end', () => { if (!s.closing) fail(s, 'stream ended early'); });
      res.on('error', (e) => { if (!s.closing) fail(s, `response ${e.code ?? e.message}`); });
    },
  );
  s.req = req;
  req.on('error', (e) => { if (!s.closing) fail(s, `request ${e.code ?? e.message}`); });
  req.end(body);
}

function pump() {
  while (started < opt.n && waiting < opt.ramp) open();
  if (!readyPrinted && ready + failed >= opt.n) startHold();
}

function startHold() {
  readyPrinted = true;
  const open = streams.filter((s) => s.ready && !s.failed);
  for (const s of open) s.eventsAtReady = s.events;
  console.log(`READY open=${open.length} failed=${failed} ramp_ms=${Date.now() - t0}`);
  setTimeout(finish, opt.hold * 1000);
}

function finish() {
  const open = streams.filter((s) => s.ready && !s.failed);
  const during = open.map((s) => s.events - s.eventsAtReady).sort((a, b) => a - b);
  const min = during.length ? during[0] : 0;
  const med = during.length ? during[Math.floor(during.length / 2)] : 0;
  for (const s of streams) { s.closing = true; s.req?.destroy(); }
  agent.destroy();
  const why = [...failures].map(([k, v]) => `${k}:${v}`).join(',') || '-';
  // Every held stream must have kept flowing (paced at --rate events/s) while held.
  const flowing = min >= 1;
  console.log(`DONE open=${open.length} failed=${failed} ` +
              `events_while_held_min=${min} events_while_held_median=${med} failures=${why}`);
  setTimeout(() => process.exit(open.length === opt.n && flowing ? 0 : 1), 200);
}

setTimeout(() => {
  if (readyPrinted) return;
  console.log(`TIMEOUT ready=${ready} failed=${failed} started=${started} after ${opt.timeout}s`);
  startHold();
}, opt.timeout * 1000).unref();

pump();
