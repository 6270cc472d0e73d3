// Shared helpers for the Node integration and end-to-end tests: start the real `sluice`
// binaries on port 0, wait for them, stop them by PID. Every wait is bounded.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const sluiceBin = process.env.SLUICE_BIN || join(repoRoot, 'build', 'sluice');

// Temp dirs live until this test process exits (tests read a stopped gateway's ledger or access
// log), then go, unless SLUICE_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
const madeDirs = [];
process.once('exit', () => {
  if (process.env.SLUICE_KEEP_TEST_DIRS === '1') return;
  for (const d of madeDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch {}
  }
});

export function tempDir(prefix = 'sluice-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The 8 betas Claude Code 2.1.x sends with every request (reference/claude-code.md, and
// asserted against the real CLI in tests/e2e/claude-code.test.mjs).
export const CLAUDE_CODE_BETA_LIST = Object.freeze([
  'claude-code-20250219',
  'interleaved-thinking-2025-05-14',
  'context-management-2025-06-27',
  'per-turn-control-2026-07-01',
  'mid-conversation-tool-changes-2026-07-01',
  'thinking-token-count-2026-05-13',
  'advanced-tool-use-2025-11-20',
  'effort-2025-11-24',
]);

async function waitForPortFile(path, proc, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`process exited early with ${proc.exitCode}: ${proc.stderrText}`);
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8').trim();
      if (text) return Number(text);
    }
    await sleep(20);
  }
  throw new Error(`no port file after ${timeoutMs} ms: ${proc.stderrText}`);
}

// Starts `sluice <args...> --port-file F` and resolves when it listens. Returns
// { port, url, proc, stderr(), stdout(), stop(signal) }.
export async function startProcess(args, { env = {}, cwd } = {}) {
  const dir = tempDir();
  const portFile = join(dir, 'port');
  const proc = spawn(sluiceBin, [...args, '--port-file', portFile], {
    env: { ...process.env, ...env },
    cwd: cwd || dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stderrText = '';
  proc.stdoutText = '';
  proc.stderr.on('data', (d) => { proc.stderrText += d; });
  proc.stdout.on('data', (d) => { proc.stdoutText += d; });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const port = await waitForPortFile(portFile, proc);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    dir,
    exited,
    stderr: () => proc.stderrText,
    stdout: () => proc.stdoutText,
    async stop(signal = 'SIGTERM', timeoutMs = 10000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        process.kill(proc.pid, signal);
        const t = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch {} }, timeoutMs);
        await exited;
        clearTimeout(t);
      }
      // Under ASan/UBSan builds a report (a leak found at exit included) fails the test that
      // started the process, not just a log line nobody reads.
      const report = /ERROR: (Address|Leak|Thread|UndefinedBehavior)Sanitizer|runtime error:/.exec(proc.stderrText);
      if (report) throw new Error(`sanitizer report from sluice ${args[0]}:\n${proc.stderrText.slice(report.index, report.index + 4000)}`);
      return exited;
    },
  };
}

// `sluice mock` on a free port.
export function startMock(extraArgs = [], opts = {}) {
  return startProcess(['mock', '--listen', '127.0.0.1:0', '--threads', '1', ...extraArgs], opts);
}

// `sluice serve` on a free port in front of `upstream` (a URL or 'mock'); `config` (YAML text)
// is written to a file when given. The access log goes to <dir>/access.log unless overridden.
export async function startGateway({ upstream, config, env = {}, args = [] } = {}) {
  const dir = tempDir('sluice-gw-');
  const cliArgs = ['serve', '--listen', '127.0.0.1:0'];
  if (config !== undefined) {
    const path = join(dir, 'sluice.yaml');
    writeFileSync(path, config);
    cliArgs.push('--config', path);
  }
  if (upstream) cliArgs.push('--upstream', upstream);
  const accessLog = join(dir, 'access.log');
  const gw = await startProcess([...cliArgs, ...args], {
    env: { SLUICE_ACCESS_LOG: accessLog, SLUICE_THREADS: '2', ANTHROPIC_API_KEY: '', CLAUDE_API_KEY: '', ...env },
    cwd: dir,
  });
  gw.accessLogPath = accessLog;
  gw.accessLog = () => (existsSync(accessLog) ? readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return gw;
}

// Sends raw bytes on a new TCP connection and collects everything the server sends until it
// closes or `timeoutMs` passes. Returns { data: Buffer, closed: boolean, events: [{t, chunk}] }.
export function rawExchange(port, payload, { timeoutMs = 5000, onConnect } = {}) {
  return new Promise((resolveP) => {
    const chunks = [];
    const events = [];
    const start = Date.now();
    const sock = net.connect(port, '127.0.0.1', () => {
      if (onConnect) onConnect(sock); else sock.write(payload);
    });
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolveP({ data: Buffer.concat(chunks), closed, events });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d) => { chunks.push(d); events.push({ t: Date.now() - start, chunk: d }); });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
  });
}

// Parses a raw HTTP/1.1 response (head + possibly chunked body).
export function parseRawResponse(buf) {
  const text = buf.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = text.slice(0, headEnd).split('\r\n');
  const [, status] = lines[0].split(' ');
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = buf.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  if ((headers['transfer-encoding'] || '').includes('chunked')) {
    const parts = [];
    let rest = body;
    for (;;) {
      const s = rest.toString('latin1');
      const nl = s.indexOf('\r\n');
      if (nl < 0) break;
      const size = parseInt(s.slice(0, nl), 16);
      if (Number.isNaN(size) || size === 0) break;
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      rest = rest.subarray(nl + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(status), headers, body: body.toString('utf8') };
}

// Parses an SSE body into [{event, data, id}] (enough for the well-formed streams in tests).
export function parseSse(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const ev = { event: 'message', data: '', id: undefined };
    const data = [];
    let hasData = false;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') ev.event = value;
      else if (field === 'data') { data.push(value); hasData = true; }
      else if (field === 'id') ev.id = value;
    }
    if (!hasData) continue;
    ev.data = data.join('\n');
    out.push(ev);
  }
  return out;
}
