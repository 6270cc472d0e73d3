#!/usr/bin/env node
// A streaming client that survives a dropped connection (docs/resume.md). It sends
// POST /v1/messages with stream: true, remembers the stream id sluice names in
// x-sluice-stream-id and the id of the last event it received; when the connection drops before
// message_stop, it asks GET /v1/streams/<id> with Last-Event-ID and goes on where it broke. The
// request is not sent upstream again, so nothing is generated or paid for twice.
//
//   SLUICE_URL=http://127.0.0.1:8787 ANTHROPIC_API_KEY=sk-... node resume-client.mjs "a prompt"
//
// Node 18+ (global fetch); no packages.
const base = process.env.SLUICE_URL ?? 'http://127.0.0.1:8787';
const key = process.env.ANTHROPIC_API_KEY ?? 'sk-ant-local';
const model = process.env.SLUICE_MODEL ?? 'claude-sonnet-4-5';
const prompt = process.argv[2] ?? 'Tell me about rivers.';
const extraHeaders = JSON.parse(process.env.SLUICE_EXTRA_HEADERS ?? '{}'); // e.g. mock faults in a demo

// Server-sent events from a fetch response body: { event, data, id } per event.
async function* sse(body) {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const ev = { event: 'message', data: [], id: undefined };
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') ev.event = value;
        else if (field === 'data') ev.data.push(value);
        else if (field === 'id') ev.id = value;
      }
      if (ev.data.length) yield { ...ev, data: ev.data.join('\n') };
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let res = await fetch(`${base}/v1/messages`, {
  method: 'POST',
  headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...extraHeaders },
  body: JSON.stringify({ model, max_tokens: 1024, stream: true, messages: [{ role: 'user', content: prompt }] }),
});
if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
const streamId = res.headers.get('x-sluice-stream-id');
let lastId = '';
let done = false;
for (let resumes = 0; !done; ) {
  try {
    for await (const ev of sse(res.body)) {
      if (ev.id) lastId = ev.id;
      const data = JSON.parse(ev.data);
      if (ev.event === 'content_block_delta' && data.delta.type === 'text_delta') process.stdout.write(data.delta.text);
      if (ev.event === 'error') throw Object.assign(new Error(data.error.message), { final: true });
      if (ev.event === 'message_stop') done = true;
    }
    if (!done) throw new Error('the stream ended before message_stop');
  } catch (e) {
    // An error event is the answer; a dropped connection is worth a resume, if sluice kept it.
    if (done || e.final || !streamId || ++resumes > 5) throw e;
    await sleep(100 * resumes);
    process.stderr.write(`\n[connection lost (${e.message}); resuming ${streamId} after ${lastId || 'the start'}]\n`);
    res = await fetch(`${base}/v1/streams/${streamId}`, { headers: { 'x-api-key': key, ...(lastId ? { 'last-event-id': lastId } : {}) } });
    if (!res.ok) throw new Error(`resume refused: HTTP ${res.status}: ${await res.text()}`);
  }
}
process.stdout.write('\n');
