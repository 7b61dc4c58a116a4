// Makes a bundle in ocap-kernel's "iife" format of one vat source file,
// for the tests of the worker's iife loader: what ocap-kernel's vite
// bundler writes ({moduleFormat: "iife", code, exports, external}, the
// code a script declaring `var __vatExports__`), made here with esbuild,
// the worker's build tool, with the vat's imports resolved from the
// worker's node_modules.
//
//	node jsvat/testdata/make-iife.mjs VAT.js OUT.bundle
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';
import { createRequire } from 'node:module';

const [src, out] = process.argv.slice(2);
const workerDir = path.resolve(path.dirname(url.fileURLToPath(import.meta.url)), '..', 'worker');
const require = createRequire(path.join(workerDir, 'package.json'));
const { build } = await import(url.pathToFileURL(require.resolve('esbuild')).href);
const result = await build({
  entryPoints: [src],
  bundle: true,
  write: false,
  format: 'iife',
  globalName: '__vatExports__',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  conditions: ['import', 'default'],
  nodePaths: [path.join(workerDir, 'node_modules')],
  // Comments go, as ocap-kernel's bundler strips them: SES refuses code
  // with the text of a dynamic import in it, even in a JSDoc comment.
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
});
fs.writeFileSync(
  out,
  JSON.stringify({ moduleFormat: 'iife', code: result.outputFiles[0].text, exports: ['buildRootObject'], external: [] }),
);
