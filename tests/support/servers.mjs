// Real Redis and PostgreSQL servers for the scale-out tests, started by the tests themselves as
// background processes under a temp dir (no systemd, no fixed port): redis-server, and initdb +
// postgres from `pg_config --bindir`. PostgreSQL refuses to run as root, so under root (CI) it
// runs as the `postgres` user in a temp dir that user owns. Each is stopped by its own PID, and
// a process 'exit' hook kills whatever is still running if a test dies before its `after`.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, chownSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = new Set();  // child processes to kill at exit
process.on('exit', () => {
  for (const p of running) { try { process.kill(p.pid, 'SIGKILL'); } catch {} }
});

// A port that was free a moment ago (the server may lose a race for it: callers retry).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function track(proc) {
  proc.output = '';
  proc.stdout?.on('data', (d) => { proc.output += d; });
  proc.stderr?.on('data', (d) => { proc.output += d; });
  proc.exitedP = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  running.add(proc);
  return proc;
}

async function stopProc(proc, signal, timeoutMs = 10000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) { running.delete(proc); return; }
  try { process.kill(proc.pid, signal); } catch {}
  const t = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch {} }, timeoutMs);
  await proc.exitedP;
  clearTimeout(t);
  running.delete(proc);
}

// Sends one RESP command to a Redis port and returns the raw reply text (bounded wait).
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('redis command timed out')); }, 3000);
    sock.once('connect', () => {
      sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''));
    });
    sock.on('data', (d) => {
      out += d;
      if (out.endsWith('\r\n')) { clearTimeout(timer); sock.destroy(); resolve(out); }
    });
    sock.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// redis-server on a free loopback port, no persistence. Returns { port, url, stop(), pid }.
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && proc.exitCode === null) {
      if (await canConnect(port)) {
        const pong = await redisCommand(port, 'PING').catch(() => '');
        if (pong.startsWith('+PONG')) {
          return {
            port, pid: proc.pid, url: `redis://127.0.0.1:${port}/0`, proc,
            command: (...a) => redisCommand(port, ...a),
            async stop() { await stopProc(proc, 'SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
          };
        }
      }
      await sleep(50);
    }
    await stopProc(proc, 'SIGKILL');
    if (attempt === 2) throw new Error(`redis-server did not start: ${proc.output}`);
  }
  throw new Error('unreachable');
}

function postgresIds() {
  if (process.getuid() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

// initdb + postgres on a free loopback port with trust auth and fsync off, and a database
// `sluice`. Returns { port, url, psql(sql), stop(), pid }.
export async function startPostgres() {
  const bindir = execFileSync('pg_config', ['--bindir']).toString().trim();
  const ids = postgresIds();
  const root = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  if (ids.uid !== undefined) chownSync(root, ids.uid, ids.gid);
  const data = join(root, 'data');
  const env = { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C', HOME: root };
  const init = spawnSync(join(bindir, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
    { ...ids, env, cwd: root, encoding: 'utf8', timeout: 60000 });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error}`);
  const launch = (port) => track(spawn(join(bindir, 'postgres'), ['-D', data, '-p', String(port), '-k', root,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off', '-c', 'max_connections=60'], { ...ids, env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  const psqlOn = (port) => (sql, db = 'sluice') => {
    const r = spawnSync(join(bindir, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db,
      '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], { env, encoding: 'utf8', timeout: 20000 });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr || r.error}`);
    return r.stdout.trim();
  };
  // Waits until `proc` answers `probe` on `port`; false if it exited or 20 s passed.
  const ready = async (proc, port, probe) => {
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && proc.exitCode === null) {
      if (await canConnect(port)) {
        try { probe(); return true; } catch { /* not accepting connections yet */ }
      }
      await sleep(100);
    }
    return false;
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let proc = launch(port);
    const psql = psqlOn(port);
    if (await ready(proc, port, () => psql('CREATE DATABASE sluice', 'postgres'))) {
      const handle = {
        port, pid: proc.pid, url: `postgresql://postgres@127.0.0.1:${port}/sluice`, psql,
        // SIGINT: PostgreSQL's fast shutdown (active sessions are ended).
        async stopServer() { await stopProc(proc, 'SIGINT'); },
        // Starts it again on the same port and data (after stopServer), for outage tests.
        async startServer() {
          proc = launch(port);
          handle.pid = proc.pid;
          if (!(await ready(proc, port, () => psql('SELECT 1')))) throw new Error(`postgres did not restart: ${proc.output}`);
        },
        async stop() { await stopProc(proc, 'SIGINT'); rmSync(root, { recursive: true, force: true }); },
      };
      return handle;
    }
    await stopProc(proc, 'SIGKILL');
    if (attempt === 2 || existsSync(join(data, 'postmaster.pid'))) throw new Error(`postgres did not start: ${proc.output}`);
  }
  throw new Error('unreachable');
}
