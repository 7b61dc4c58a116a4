// Loading a vat's code from its bundleSpec: a file path or file:// URL of
// either a bundle (JSON, moduleFormat "endoZipBase64", as
// @endo/bundle-source writes it) or a single-file ES module (a name
// ending in .js or .mjs), which the worker bundles itself, exactly as
// @endo/bundle-source would, before loading it the same way.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';

import { makeReadPowers } from '@endo/compartment-mapper/node-powers.js';
import { parseArchive } from '@endo/compartment-mapper/import-archive.js';

// The worker's own directory: a single-file vat is bundled as if it were
// a module of the worker's package, so its bare imports ('@endo/far',
// '@endo/exo', ...) resolve to the worker's dependencies, whatever
// directory the file is in.
const WORKER_DIR = path.resolve(path.dirname(url.fileURLToPath(import.meta.url)), '..');
const VIRTUAL_DIR = path.join(WORKER_DIR, '.vat-entry');

/**
 * A bundleSpec as a file path.
 *
 * @param {string} spec
 */
export const specPath = spec => {
  if (typeof spec !== 'string' || spec === '') {
    throw TypeError('bundleSpec must be a non-empty string');
  }
  if (spec.startsWith('file:')) {
    return url.fileURLToPath(spec);
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(spec)) {
    throw Error(`bundleSpec ${JSON.stringify(spec)}: only file paths and file:// URLs are supported`);
  }
  return path.resolve(spec);
};

export const isModuleSource = file => /\.m?js$/.test(file);

/**
 * Read powers for bundling one source file as a module of the worker's
 * package. Besides the entry, they read only the worker's package.json
 * and its node_modules: a relative import from the entry finds nothing,
 * so the vat is one file and the packages the worker depends on.
 *
 * @param {string} file the real source file
 * @param {Buffer} source its content
 */
const entryReadPowers = (file, source) => {
  const base = makeReadPowers({ fs, url, crypto, path });
  const entry = path.join(VIRTUAL_DIR, path.basename(file));
  const entryURL = url.pathToFileURL(entry).href;
  const pkgURL = url.pathToFileURL(path.join(WORKER_DIR, 'package.json')).href;
  const modulesURL = `${url.pathToFileURL(path.join(WORKER_DIR, 'node_modules')).href}/`;
  const allowed = loc => loc === pkgURL || loc.startsWith(modulesURL);
  const inVirtual = loc => loc.startsWith(`${url.pathToFileURL(VIRTUAL_DIR).href}/`);
  return {
    entry,
    powers: {
      ...base,
      read: async loc => {
        if (loc === entryURL) {
          return source;
        }
        if (!allowed(loc)) {
          throw Error(`ENOENT: ${loc}: a single-file vat may import only the worker's packages (bundle it with @endo/bundle-source instead)`);
        }
        return base.read(loc);
      },
      maybeRead: async loc => {
        if (loc === entryURL) {
          return source;
        }
        return allowed(loc) ? base.maybeRead(loc) : undefined;
      },
      canonical: async loc => (loc === entryURL || inVirtual(loc) ? loc : base.canonical(loc)),
    },
  };
};

/**
 * Bundles a single-file ES module. With a cache directory, the bundle is
 * kept there under the hash of the source, so the next launch of the same
 * code (a restart, another vat) skips the bundling, which takes seconds.
 *
 * @param {string} file
 * @param {string | undefined} cacheDir
 */
export const bundleModule = async (file, cacheDir) => {
  const source = await fs.promises.readFile(file);
  const hash = crypto.createHash('sha512').update(source).digest('hex');
  const cached = cacheDir && path.join(cacheDir, `${hash}.json`);
  if (cached) {
    try {
      return JSON.parse(await fs.promises.readFile(cached, 'utf8'));
    } catch {
      // Not there yet (or unreadable): bundle afresh.
    }
  }
  const { entry, powers } = entryReadPowers(file, source);
  // Loaded here, on a cache miss only: @endo/bundle-source brings a
  // JavaScript parser and its friends, which took a good part of every
  // worker's start when imported with the rest, though a prebuilt bundle
  // or a cached one never needs them.
  const { default: bundleSource } = await import('@endo/bundle-source');
  let bundle;
  try {
    bundle = await bundleSource(entry, { format: 'endoZipBase64' }, powers);
  } catch (e) {
    // Name the user's file, not the virtual path it was bundled under.
    throw Error(`bundling ${file}: ${String(e.message).split(entry).join(file)}`);
  }
  if (cached) {
    // Written whole then renamed, so a worker reading it never sees half.
    const tmp = `${cached}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, JSON.stringify(bundle));
    await fs.promises.rename(tmp, cached);
  }
  return bundle;
};

/**
 * Reads the bundle named by spec.
 *
 * @param {string} spec
 * @param {string | undefined} cacheDir
 * @returns {Promise<{moduleFormat: string, endoZipBase64?: string, endoZipBase64Sha512?: string, code?: string}>}
 */
export const readBundle = async (spec, cacheDir) => {
  const file = specPath(spec);
  if (isModuleSource(file)) {
    return bundleModule(file, cacheDir);
  }
  let bundle;
  try {
    bundle = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    throw Error(`bundle ${file}: ${e.message}`);
  }
  if (bundle === null || typeof bundle !== 'object') {
    throw Error(`bundle ${file}: not a bundle object`);
  }
  switch (bundle.moduleFormat) {
    case 'endoZipBase64':
      if (typeof bundle.endoZipBase64 !== 'string') {
        throw Error(`bundle ${file}: endoZipBase64 is missing`);
      }
      break;
    case 'iife':
      // ocap-kernel's own format (its vite bundler, @metamask/kernel-utils):
      // one script that declares `var __vatExports__`.
      if (typeof bundle.code !== 'string') {
        throw Error(`bundle ${file}: an iife bundle's code is missing (or not a string)`);
      }
      break;
    default:
      throw Error(
        `bundle ${file}: moduleFormat ${JSON.stringify(bundle.moduleFormat)} is not supported (want "endoZipBase64", as @endo/bundle-source makes, or "iife", as ocap-kernel's bundler makes; or give a .js file)`,
      );
  }
  return bundle;
};

/**
 * Decodes base64 as strictly as @endo/base64's decodeBase64 (the
 * alphabet only, then exactly the padding the length needs, nothing
 * after), natively: its decoder in JavaScript was a twentieth of a
 * worker's start for a bundle of a few hundred kilobytes.
 *
 * @param {string} text
 * @returns {Uint8Array}
 */
export const decodeBundleBase64 = text => {
  if (typeof text !== 'string') {
    throw TypeError('endoZipBase64 must be a string');
  }
  const n = /^[A-Za-z0-9+/]*/.exec(text)[0].length;
  // The padding jsDecodeBase64 insists on for n characters of data.
  const padding = '='.repeat([0, 3, 2, 1][n % 4]);
  if (text.slice(n) !== padding) {
    throw Error(`endoZipBase64: invalid base64 at offset ${n} (want ${padding.length} "=" and nothing after)`);
  }
  const buf = Buffer.from(text, 'base64');
  // A plain Uint8Array over the bytes: the archive reader needs no more.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
};

/**
 * A Compartment constructor that puts liveslots' inescapable globals
 * (its virtual-object-aware WeakMap and WeakSet, and its passStyleOf) on
 * every compartment the bundle makes, including those vat code makes
 * itself, so no code in the vat can reach the plain ones.
 *
 * @param {object} inescapable
 */
const makeVatCompartment = inescapable => {
  const descriptors = Object.getOwnPropertyDescriptors(inescapable);
  // eslint-disable-next-line func-style
  function VatCompartment(...args) {
    if (new.target === undefined) {
      throw TypeError('Compartment must be called as a constructor');
    }
    const c = Reflect.construct(Compartment, args, new.target);
    Object.defineProperties(c.globalThis, descriptors);
    Object.defineProperty(c.globalThis, 'Compartment', {
      value: VatCompartment,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    return c;
  }
  VatCompartment.prototype = Compartment.prototype;
  return harden(VatCompartment);
};

/**
 * Loads bundle into compartments whose globals are exactly globals (and
 * inescapable), and returns its namespace.
 *
 * @param {object} bundle
 * @param {Record<string, unknown>} globals
 * @param {object} inescapable
 */
export const importVatBundle = async (bundle, globals, inescapable) => {
  if (bundle.moduleFormat === 'iife') {
    return importIifeBundle(bundle, globals, inescapable);
  }
  const bytes = decodeBundleBase64(bundle.endoZipBase64);
  const computeSha512 = b => crypto.createHash('sha512').update(b).digest('hex');
  const archive = await parseArchive(bytes, 'bundle', {
    computeSha512,
    expectedSha512: bundle.endoZipBase64Sha512,
  });
  // Called by property, as @endo/import-bundle does: SES censors the
  // text "import(" in evaluated code.
  // eslint-disable-next-line dot-notation
  const { namespace } = await archive['import']({
    globals,
    Compartment: makeVatCompartment(inescapable),
  });
  return namespace;
};

/**
 * Loads an iife bundle, as ocap-kernel's bundle loader does: its code, a
 * script that declares `var __vatExports__`, is evaluated in one
 * compartment whose globals are exactly globals (and inescapable), plus
 * what the bundler's output expects: an `exports` object, and
 * `globalThis` and `global` naming the compartment's own global. Nested
 * compartments the vat makes get the inescapable globals too.
 *
 * @param {{code: string}} bundle
 * @param {Record<string, unknown>} globals
 * @param {object} inescapable
 */
const importIifeBundle = (bundle, globals, inescapable) => {
  const VatCompartment = makeVatCompartment(inescapable);
  const c = new VatCompartment({ ...globals, exports: {} });
  c.globalThis.globalThis = c.globalThis;
  c.globalThis.global = c.globalThis;
  // The code is the vat's own, evaluated with the vat's authority only:
  // wrapping it cannot give it more.
  const ns = c.evaluate(`(function () { ${bundle.code}\n; return __vatExports__; })()`);
  if (ns === null || typeof ns !== 'object') {
    throw Error('iife bundle: its code did not set __vatExports__ to a namespace object');
  }
  return ns;
};
