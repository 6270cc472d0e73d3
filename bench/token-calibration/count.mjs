// Builds the calibration corpus and counts every sample with reference tokenizers.
//
//   node count.mjs <repo-root> > samples.jsonl
//
// Samples are cut, at line ends, from text found on any Debian machine that built sluice: its
// own sources and docs, the C and C++ headers under /usr/include, the JavaScript and TypeScript
// of the e2e tests' npm packages, Python's standard library, the licence texts under
// /usr/share/common-licenses (English prose), the vim tutors (other languages and scripts,
// package vim-runtime) and JSON documents (test fixtures, package manifests). Nothing here is stored in the repository; the
// selection is deterministic (sorted paths, fixed strides), so a run is reproducible.
// Each line: {"kind","source","text","claude","cl100k","o200k"}.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, extname, basename } from 'node:path';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { getEncoding } from 'js-tiktoken';

const root = process.argv[2] ?? '../..';
// Built once: the package's countTokens() builds (and frees) a tokenizer per call.
const claude = getTokenizer();
const cl100k = getEncoding('cl100k_base');
const o200k = getEncoding('o200k_base');

function walk(dir, keep, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'node_modules' || name.startsWith('build')) continue;
    const p = join(dir, name);
    let st;
    try { st = statSync(p); } catch { continue; }
    if (st.isDirectory()) walk(p, keep, out);
    else if (st.isFile() && st.size > 0 && st.size < 4 << 20 && keep(p)) out.push(p);
  }
  return out;
}

// Cuts `text` into pieces of about `size` bytes, at line ends.
function pieces(text, size) {
  const out = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

// Every `stride`-th piece of the files, up to `limit` pieces; sizes cycle so short and long
// prompts are both represented.
function sample(kind, files, limit, stride = 1) {
  const sizes = [512, 2048, 8192, 32768];
  const out = [];
  let n = 0;
  for (const f of files) {
    let text;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    if (text.includes('\uFFFD')) continue;  // not UTF-8
    for (const p of pieces(text, sizes[n % sizes.length])) {
      if (p.trim().length === 0) continue;
      if (n++ % stride === 0) out.push({ kind, source: f, text: p });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

// Encoded data pasted as text (base64 blobs, hex digests, UUIDs) from a fixed-seed generator.
function encoded(limit) {
  let x = 0x9e3779b9;
  const next = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6a09e667) >>> 0));
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => next() & 0xff));
  const out = [];
  for (let i = 0; i < limit; ++i) {
    const n = 64 << (i % 6);
    const text = i % 3 === 0 ? bytes(n).toString('base64')
      : i % 3 === 1 ? Array.from({ length: n / 16 }, () => bytes(32).toString('hex')).join('\n')
      : Array.from({ length: n / 16 }, () => bytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')).join(', ');
    out.push({ kind: 'encoded', source: 'generated', text });
  }
  return out;
}

const code = /\.(cpp|hpp|cc|c|h|mjs|js|ts|py|sh|cmake)$/;
const tutors = '/usr/share/vim/vim90/tutor';
const tutor = (re) => walk(tutors, (p) => re.test(basename(p)));
const groups = [
  sample('code', walk(join(root, 'src'), (p) => code.test(p)).concat(walk(join(root, 'tests'), (p) => code.test(p))), 300),
  sample('headers', walk('/usr/include', (p) => /\.(h|hpp)$/.test(p) || extname(p) === ''), 300, 37),
  // Code sluice did not write: JavaScript and TypeScript declarations of the npm packages the
  // e2e tests install, and Python's standard library.
  sample('javascript', walk(join(root, 'tests/e2e/node_modules'), (p) => /\.(js|mjs|cjs)$/.test(p) && !p.endsWith('.min.js')), 200, 7),
  sample('typescript', walk(join(root, 'tests/e2e/node_modules'), (p) => p.endsWith('.d.ts')), 200, 5),
  sample('python', walk('/usr/lib/python3.11', (p) => p.endsWith('.py')), 200, 41),
  sample('markdown', walk(join(root, 'docs'), (p) => p.endsWith('.md')).concat([join(root, 'README.md')]), 150),
  sample('prose', walk('/usr/share/common-licenses', () => true), 150, 3),
  sample('json', walk(join(root, 'tests'), (p) => p.endsWith('.json') && !p.includes('node_modules')).concat(
    walk('/usr/share/nodejs', (p) => p.endsWith('.json')),
    walk(join(root, 'tests/e2e/node_modules'), (p) => p.endsWith('.json'))), 150, 3),
  sample('european', tutor(/^tutor\.(de|fr|es|it|nl|pl|pt|sv|da|nb|cs|hr|hu)\.utf-8$/), 120),
  sample('cyrillic-greek', tutor(/^tutor\.(ru|uk|bg|sr|el)\.utf-8$/), 120),
  sample('cjk', tutor(/^tutor\.(zh|zh_cn|zh_tw|ja|ko)\.utf-8$/), 120),
  encoded(60),
];
for (const group of groups) {
  for (const s of group) {
    s.claude = claude.encode(s.text.normalize('NFKC'), 'all').length;  // as countTokens() does
    s.cl100k = cl100k.encode(s.text, 'all').length;
    s.o200k = o200k.encode(s.text, 'all').length;
    process.stdout.write(JSON.stringify(s) + '\n');
  }
}
claude.free();
