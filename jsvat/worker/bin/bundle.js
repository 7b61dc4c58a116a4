#!/usr/bin/env node
// Bundles a single-file ES module vat as @endo/bundle-source does (the
// worker's own bundling of a .js bundleSpec, done ahead of time):
//
//	node jsvat/worker/bin/bundle.js vat.js > vat.bundle
//	node jsvat/worker/bin/bundle.js vat.js vat.bundle
//
// The bundle is JSON, moduleFormat "endoZipBase64"; a vat config whose
// bundleSpec names it launches without bundling. The vat's bare imports
// resolve to the worker's dependencies, as at launch.
import '../src/lockdown.js';

import fs from 'node:fs';

import { bundleModule, specPath } from '../src/bundle.js';

const [src, out] = process.argv.slice(2);
if (!src || process.argv.length > 4) {
  process.stderr.write('usage: bundle.js SOURCE.js [OUT.bundle]\n');
  process.exit(2);
}
try {
  const text = JSON.stringify(await bundleModule(specPath(src), undefined));
  if (out) {
    fs.writeFileSync(out, text);
  } else {
    process.stdout.write(text);
  }
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
