#!/usr/bin/env node
// Turns bench/run.sh's raw runs into the markdown report (medians per cell, ratios, memory).
//   node bench/report.mjs RAW.tsv MEM.tsv META.env > results/latest.md
import { readFileSync } from 'node:fs';

const [rawPath, memPath, metaPath] = process.argv.slice(2);
const readTsv = (p) => {
  const [head, ...rows] = readFileSync(p, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
};
const raw = readTsv(rawPath);
const mem = memPath ? readTsv(memPath) : [];
const meta = Object.fromEntries(
  readFileSync(metaPath, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const num = (s) => (s === '' || s === undefined ? NaN : Number(s));
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const ms = (us, d = 2) => fmt(us / 1000, d);
const signed = (x, d = 2) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(d) : '–');

const modes = [...new Set(raw.map((r) => r.mode))];
const concs = [...new Set(raw.map((r) => r.conc))];
const targets = [...new Set(raw.map((r) => r.target))];
const modeName = { plain: 'non-streaming', stream: 'streaming' };

// cell[mode][conc][target] = medians
const cell = {};
for (const m of modes) {
  cell[m] = {};
  for (const c of concs) {
    cell[m][c] = {};
    for (const t of targets) {
      const all = raw.filter((r) => r.mode === m && r.conc === c && r.target === t);
      const rs = all.filter((r) => r.crashed !== '1');  // a run the proxy died in has no figures
      const med = (k) => median(rs.map((r) => num(r[k])));
      cell[m][c][t] = {
        n: rs.length,  // runs with figures
        rps: med('rps'),
        p50: med('p50_us'),
        p99: med('p99_us'),
        cpu: med('proxy_cpu_us_per_req'),
        mockCpu: med('mock_cpu_us_per_req'),
        others: med('others_cores'),
        errors: rs.reduce((a, r) => a + num(r.errors), 0),
        crashes: all.length - rs.length,
        warmCrashes: all.filter((r) => r.rep === 'warm-up').length,
        requests: rs.reduce((a, r) => a + num(r.requests), 0),
      };
    }
  }
}

const out = [];
const p = (s = '') => out.push(s);
const loads = raw.map((r) => num(r.load1));
p(`# sluice benchmark results`);
p();
p(`- date: ${meta.date}; ${meta.cores} cores (${meta.cpu}), kernel ${meta.kernel}; shared machine`);
p(`- load average (1/5/15 min): ${meta.load_start} at start, ${meta.load_mid} after the throughput runs, ` +
  `${meta.load_end} at the end; 1-min load at the start of each run: ` +
  `${fmt(Math.min(...loads))}–${fmt(Math.max(...loads))} (median ${fmt(median(loads))})`);
p(`- sluice ${meta.sluice}, git ${meta.git}, build ${meta.build_type}; ${meta.nginx}; ${meta.wrk}; node ${meta.node}`);
if (meta.sluice_config?.trim()) p(`- sluice rows run with \`--config ${meta.sluice_config.trim()}\``);
if (meta.unoptimized?.trim()) {
  p(`- **WARNING: this sluice binary has files compiled with -O0: ${meta.unoptimized.trim()}. ` +
    `Its figures are not representative of an optimised build.**`);
}
p(`- mock, sluice and nginx: ${meta.threads} thread(s)/worker(s) each; wrk ${meta.wrk_threads} thread; ` +
  `${meta.duration} s per run after a ${meta.warmup} s warm-up per target and cell, ${meta.reps} runs per cell ` +
  `(targets interleaved), medians shown; whole run ${meta.seconds_total} s`);
p();
p(`## Throughput, latency, CPU per request`);
p();
p(`"added" = this row's median minus direct's median. "proxy CPU" = utime+stime of the proxy process(es) ` +
  `during the run ÷ requests completed (nginx: master + workers). "others" = CPU used by processes outside ` +
  `the benchmark during the run, in cores (of ${meta.cores}): the noise. "errors" = wrk's socket errors and ` +
  `non-2xx answers; "crashes" = runs (timed or warm-up) in which the proxy process died; the proxy is restarted and the run left out of the medians (logs: crash-*.log).`);
p();
p(`| workload | conc | target | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | proxy CPU µs/req | mock CPU µs/req | others (cores) | errors | crashes |`);
p(`|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const m of modes) {
  for (const c of concs) {
    const d = cell[m][c].direct;
    for (const t of targets) {
      const x = cell[m][c][t];
      const direct = t === 'direct';
      p(`| ${modeName[m] ?? m} | ${c} | ${t} | ${fmt(x.rps, 0)} | ${ms(x.p50)} | ${ms(x.p99)} | ` +
        `${direct ? '' : signed((x.p50 - d.p50) / 1000)} | ${direct ? '' : signed((x.p99 - d.p99) / 1000)} | ` +
        `${direct ? '' : fmt(x.cpu, 1)} | ${fmt(x.mockCpu, 1)} | ${fmt(x.others, 2)} | ${x.errors} | ` +
        `${x.crashes ? `**${x.crashes}**${x.warmCrashes ? ` (${x.warmCrashes} in warm-up)` : ''}` : 0} |`);
    }
  }
}
p();
p(`## sluice against nginx (the issue's aims: throughput ≥ 0.8× nginx, added p99 ≤ 1.5× nginx's added p99)`);
p();
p(`| workload | conc | throughput sluice/nginx | p99 sluice/nginx | added p99 sluice/nginx | added p50 sluice/nginx | **CPU/req sluice/nginx** | ` +
  `throughput +log/nginx | added p99 +log/nginx | CPU/req +log/nginx |`);
p(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
let tpMet = 0, tpAll = 0, latMet = 0, latAll = 0;
const addedRatio = (x, n, d) => {
  const a = x.p99 - d.p99, b = n.p99 - d.p99;
  // nginx's p99 at or below direct's: noise swamps what it adds, so no ratio can be formed.
  if (b <= 0) return { text: `n/a (nginx ${signed(b / 1000)} ms, sluice ${signed(a / 1000)} ms)`, ok: null };
  const r = a / b;
  return { text: fmt(r), ok: r <= 1.5 };
};
const mark = (ok) => (ok === true ? ' ✓' : ok === false ? ' ✗' : '');
for (const m of modes) {
  for (const c of concs) {
    const { direct: d, nginx: n, sluice: s, 'sluice+log': l } = cell[m][c];
    if (!n || !s) continue;
    const tp = s.rps / n.rps;
    const ar = addedRatio(s, n, d);
    tpAll++; if (tp >= 0.8) tpMet++;
    if (ar.ok !== null) { latAll++; if (ar.ok) latMet++; }
    const arl = l ? addedRatio(l, n, d) : null;
    const a50 = n.p50 - d.p50 > 0 ? fmt((s.p50 - d.p50) / (n.p50 - d.p50)) : 'n/a';
    p(`| ${modeName[m] ?? m} | ${c} | ${fmt(tp)}${mark(tp >= 0.8)} | ${fmt(s.p99 / n.p99)} | ${ar.text}${mark(ar.ok)} | ` +
      `${a50} | **${fmt(s.cpu / n.cpu)}** | ${l ? fmt(l.rps / n.rps) : '–'} | ${arl ? arl.text : '–'} | ${l ? fmt(l.cpu / n.cpu) : '–'} |`);
  }
}
p();
p(`Aims met (sluice, access log off): throughput in ${tpMet} of ${tpAll} cells; added p99 in ${latMet} of ${latAll} ` +
  `cells where nginx adds a measurable p99.`);
p();
// sluice against another sluice binary (BENCH_BASELINE_BIN), e.g. before a change. Besides the ratio
// of the medians, the ratio within each rep (the two ran back to back in every rep) shows the spread.
if (targets.includes('sluice-before')) {
  const paired = (m, c, k) => {
    const rows = raw.filter((r) => r.mode === m && r.conc === c && r.crashed !== '1' && r.rep !== 'warm-up');
    const rs = [];
    for (const rep of new Set(rows.map((r) => r.rep))) {
      const s = rows.find((r) => r.rep === rep && r.target === 'sluice');
      const b = rows.find((r) => r.rep === rep && r.target === 'sluice-before');
      if (s && b && num(b[k]) > 0 && Number.isFinite(num(s[k]))) rs.push(num(s[k]) / num(b[k]));
    }
    return rs.length ? `${fmt(Math.min(...rs))}–${fmt(Math.max(...rs))}` : '–';
  };
  p(`## sluice vs sluice-before (BENCH_BASELINE_BIN)`);
  p();
  p(`sluice-before: ${meta.baseline}. Same flags as the sluice row (access log off), measured interleaved with ` +
    `the other rows. Ratios = sluice ÷ sluice-before of the medians; "per-rep range" = the lowest and highest ` +
    `ratio of the two runs within one rep. req/s < 1 or CPU/req > 1 means sluice is slower / costlier.`);
  if (meta.baseline_config?.trim()) p(`sluice-before runs with \`--config ${meta.baseline_config.trim()}\`.`);
  if (meta.baseline_unoptimized?.trim()) {
    p();
    p(`**WARNING: the baseline has files compiled with -O0: ${meta.baseline_unoptimized.trim()}.**`);
  }
  p();
  p(`| workload | conc | req/s before | req/s sluice | **req/s ratio** | per-rep range | CPU µs/req before | ` +
    `CPU µs/req sluice | **CPU/req ratio** | CPU µs/req delta | per-rep range | p50 ms before / sluice |`);
  p(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const m of modes) {
    for (const c of concs) {
      const { sluice: s, 'sluice-before': b } = cell[m][c];
      if (!s || !b) continue;
      p(`| ${modeName[m] ?? m} | ${c} | ${fmt(b.rps, 0)} | ${fmt(s.rps, 0)} | **${fmt(s.rps / b.rps)}** | ` +
        `${paired(m, c, 'rps')} | ${fmt(b.cpu, 1)} | ${fmt(s.cpu, 1)} | **${fmt(s.cpu / b.cpu)}** | ` +
        `${signed(s.cpu - b.cpu, 1)} | ${paired(m, c, 'proxy_cpu_us_per_req')} | ${ms(b.p50)} / ${ms(s.p50)} |`);
    }
  }
  p();
}
if (mem.length) {
  p(`## Memory per open stream`);
  p();
  p(`${meta.streams} streams paced at 2 tokens/s held open at once through a fresh proxy; RSS of the proxy ` +
    `(nginx: sum of its workers) before, while all streams are open (highest of 3 samples), and 2 s after they ` +
    `closed; then a second identical round on the same process (flat = freed memory is reused, growth = a leak). ` +
    `KB per stream = (RSS during − RSS idle) ÷ streams, from the first round.`);
  p();
  p(`| proxy | streams open | RSS idle MB | RSS with streams MB | RSS after close MB | **KB per stream** | 2nd round: RSS with streams / after close MB | ramp ms | events per stream while held (min) | ok |`);
  p(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---|`);
  for (const r of mem) {
    const mb = (k) => fmt(num(r[k]) / 1024, 1);
    p(`| ${r.proxy} | ${r.streams} | ${mb('rss_idle_kb')} | ${mb('rss_during_kb')} | ${mb('rss_after_kb')} | ` +
      `**${fmt(num(r.kb_per_stream), 1)}** | ${mb('rss_during2_kb')} / ${mb('rss_after2_kb')} | ${r.ramp_ms} | ${r.events_while_held_min} | ${r.ok} |`);
  }
  const ms_ = mem.find((r) => r.proxy === 'sluice'), mn = mem.find((r) => r.proxy === 'nginx');
  if (ms_ && mn) p(`\nsluice/nginx memory per stream: ${fmt(num(ms_.kb_per_stream) / num(mn.kb_per_stream))}`);
  p();
}
process.stdout.write(out.join('\n') + '\n');
