// Bundles the dashboard: web/src/app.js (with uPlot and the CSS it imports) into app.js and
// app.css, and copies index.html, into the directory given (default: web/dist).
//   node build.mjs [outdir]        (npm run build writes web/dist)
// CMake runs it into its build directory and embeds the result (src/dashboard). Files are
// rewritten only when their content changed, so an unchanged bundle rebuilds nothing.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, 'dist'));

function writeIfChanged(path, bytes) {
  if (existsSync(path) && Buffer.compare(readFileSync(path), Buffer.from(bytes)) === 0) return;
  writeFileSync(path, bytes);
}

const result = await build({
  entryPoints: { app: join(here, 'src', 'app.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome109', 'firefox115', 'safari16'],
  outdir,
  write: false,
  logLevel: 'warning',
});
mkdirSync(outdir, { recursive: true });
const names = [];
for (const f of result.outputFiles) {
  writeIfChanged(f.path, f.contents);
  names.push(basename(f.path));
}
writeIfChanged(join(outdir, 'index.html'), readFileSync(join(here, 'src', 'index.html')));
names.push('index.html');
for (const want of ['app.js', 'app.css', 'index.html']) {
  if (!names.includes(want)) throw new Error(`the bundle has no ${want}`);
}
