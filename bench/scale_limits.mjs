// What shared limits cost per request: one `sluice serve` in front of `sluice mock`, a key
// with limits that never refuse (RPM, TPM and concurrency all set), driven by keep-alive
// connections; once with in-process buckets (limits.engine: local) and once with Redis
// (limits.engine: redis: one admission script before the upstream, one settlement after).
// Starts its own redis-server and PostgreSQL (tests/support/servers.mjs); prints a table.
//   node bench/scale_limits.mjs [requests=4000] [connections=32]
import { startMock } from '../tests/support/harness.mjs';
import { startRedis, startPostgres } from '../tests/support/servers.mjs';
import { startCluster, createSharedKey } from '../tests/integration/scale_helpers.mjs';
import { bodyFor } from '../tests/integration/usage_helpers.mjs';
import { Conn, API_HEADERS } from '../tests/integration/helpers.mjs';

const total = Number(process.argv[2] || 4000);
const conns = Number(process.argv[3] || 32);
const body = bodyFor('hi');

async function drive(port, key) {
  const lat = [];
  let next = 0;
  const worker = async () => {
    const c = await Conn.open(port);
    while (next < total) {
      next++;
      const t0 = performance.now();
      await c.send({ method: 'POST', path: '/v1/messages', headers: { ...API_HEADERS, 'x-api-key': key }, body });
      const r = await c.readResponse({ timeoutMs: 15000 });
      if (r.status !== 200) throw new Error(`status ${r.status}: ${r.text}`);
      lat.push(performance.now() - t0);
    }
    c.close();
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conns }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  return { rps: (total / secs).toFixed(0), p50: q(0.5), p99: q(0.99) };
}

const [mock, redis, pg] = await Promise.all([startMock(), startRedis(), startPostgres()]);
const rows = [];
try {
  for (const engine of ['local', 'redis']) {
    const c = await startCluster(1, { mockUrl: mock.url, pgUrl: pg.url, redisUrl: redis.url, limits: { engine } });
    try {
      const k = await createSharedKey(c, `bench-${engine}`, { rpm: 1e9, tpm: 1e12, concurrency: 100000 });
      await drive(c.at(0).port, k.key);  // warm-up
      rows.push({ engine, ...(await drive(c.at(0).port, k.key)) });
    } finally {
      await c.stop();
    }
  }
} finally {
  await mock.stop();
  await redis.stop();
  await pg.stop();
}
console.log(`\n${total} requests over ${conns} keep-alive connections, 1 replica (2 worker threads):\n`);
console.log('| limits | requests/s | p50 ms | p99 ms |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.engine} | ${r.rps} | ${r.p50} | ${r.p99} |`);
