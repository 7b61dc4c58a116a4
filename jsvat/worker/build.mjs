#!/usr/bin/env node
// Builds dist/worker.mjs: the worker (src/main.js and everything it
// imports: ses, liveslots, @endo/*) as one ES module file, so that a
// worker's start reads and compiles one file instead of resolving and
// loading some three hundred. On the build machine that cut the time from
// `node` starting to liveslots being ready from about 220 ms to about 70.
//
//	npm run build --prefix jsvat/worker     (npm ci runs it too: "prepare")
//
// The bundle changes nothing the worker does:
// - Module order is kept. src/lockdown.js is main.js's first import, so
//   lockdown() still runs before any other module body is evaluated.
// - ES module output is strict code, as the sources are. SES's lockdown
//   refuses sloppy functions with own `arguments` properties, so a
//   CommonJS bundle would not do.
// - dist/ is at the same depth as src/, so import.meta.url still finds the
//   worker's directory and its node_modules (src/bundle.js).
// - @endo/bundle-source stays outside: it is imported only to bundle a
//   .js vat on a cache miss, and it brings a parser the start does not need.
//
// The first line of the output names the sha256 of the sources it was
// built from (digest below). The kernel recomputes it at start and runs
// src/main.js instead of a bundle that no longer matches its sources, so an
// edit to src/ without a rebuild is never silently ignored.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';

const here = path.dirname(url.fileURLToPath(import.meta.url));
const srcDir = path.join(here, 'src');
const out = path.join(here, 'dist', 'worker.mjs');

// digest is the sha256, in hex, of every file in src/ in name order, each
// as its name, a NUL, its length in decimal, a NUL and its bytes. The Go
// side (jsvat/bundled.go) computes the same.
const digest = () => {
  const h = crypto.createHash('sha256');
  for (const name of fs.readdirSync(srcDir).sort()) {
    const data = fs.readFileSync(path.join(srcDir, name));
    h.update(`${name}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex');
};

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Installed without dev dependencies (npm ci --omit=dev): the worker
  // runs from src/, only slower to start. Not an error, so npm ci passes.
  process.stderr.write('jsvat worker: esbuild is not installed; the worker will run unbundled from src/ (slower to start)\n');
  process.exit(0);
}

const sum = digest();
fs.mkdirSync(path.dirname(out), { recursive: true });
// Written under a temporary name, then renamed: a kernel starting a worker
// meanwhile sees the old bundle or the new one, never half of one.
const tmp = `${out}.${process.pid}.tmp`;
try {
  await esbuild.build({
    entryPoints: [path.join(srcDir, 'main.js')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: tmp,
    external: ['@endo/bundle-source'],
    banner: { js: `// kernel-actors jsvat worker bundle; src sha256 ${sum}` },
    logLevel: 'warning',
    legalComments: 'inline',
  });
  fs.renameSync(tmp, out);
} catch (e) {
  fs.rmSync(tmp, { force: true });
  process.stderr.write(`jsvat worker: building ${out}: ${e.message}\n`);
  process.exit(1);
}
