// The globals a vat may ask for by name (VatConfig.globals), as the
// reference's allow-list has them. Every vat gets `console` (console.js)
// and the hardened intrinsics SES puts in every Compartment; nothing else
// unless its config lists it here. The list is the reference's, less the
// network (fetch, Request, Headers, Response): the reference grants those
// only with a per-vat host allow-list, which this kernel's vat config does
// not have, so they are refused with a message saying so.
//
// These globals are not deterministic (clocks, randomness, timers): a vat
// that uses them cannot be replayed, which is why they are opt-in.

// Timers run their callbacks outside any delivery. A callback that makes a
// syscall then (sends, resolves) breaks the crank model: the kernel refuses
// syscalls between deliveries and the vat fails (docs/js-vats.md). They are
// given as the reference gives them, for code that only needs to wait
// within one delivery's promise chain.
const makeTimers = () => {
  /** @type {Map<number, any>} */
  const live = new Map();
  let next = 1;
  // Ids, not Node's Timeout objects: those reach the event loop's internals.
  const start = (nodeSet, nodeClear, repeat) => (callback, ms = 0, ...args) => {
    if (typeof callback !== 'function') {
      throw TypeError('timer callback must be a function');
    }
    const id = next;
    next += 1;
    const handle = nodeSet(() => {
      if (!repeat) {
        live.delete(id);
      }
      callback(...args);
    }, Number(ms) || 0);
    live.set(id, { handle, nodeClear });
    return id;
  };
  const clear = id => {
    const t = live.get(id);
    if (t) {
      live.delete(id);
      t.nodeClear(t.handle);
    }
  };
  return {
    setTimeout: harden(start(setTimeout, clearTimeout, false)),
    clearTimeout: harden(clear),
    setInterval: harden(start(setInterval, clearInterval, true)),
    clearInterval: harden(clear),
  };
};

const network = ['fetch', 'Request', 'Headers', 'Response'];

/**
 * The names a vat may request, in the reference's order.
 */
export const ALLOWED_GLOBAL_NAMES = harden([
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'Date',
  'Math',
  'crypto',
  'SubtleCrypto',
  'TextEncoder',
  'TextDecoder',
  'URL',
  'URLSearchParams',
  'atob',
  'btoa',
  'AbortController',
  'AbortSignal',
]);

/**
 * Builds the requested globals. An unknown name, or one the allow-list
 * (allowed, from the kernel, if given) leaves out, fails the launch with
 * an error naming it, as the reference does.
 *
 * @param {string} vatId
 * @param {unknown} requested VatConfig.globals
 * @param {unknown} allowed initVat's allowedGlobalNames, or undefined
 * @returns {Record<string, unknown>}
 */
export const makeEndowments = (vatId, requested, allowed) => {
  if (requested === undefined || requested === null) {
    return {};
  }
  if (!Array.isArray(requested) || requested.some(n => typeof n !== 'string')) {
    throw TypeError(`Vat "${vatId}": globals must be a list of names`);
  }
  if (allowed !== undefined && !(Array.isArray(allowed) && allowed.every(n => typeof n === 'string'))) {
    throw TypeError(`Vat "${vatId}": allowedGlobalNames must be a list of names`);
  }
  const timers = makeTimers();
  /** @type {Record<string, () => unknown>} */
  const factories = {
    ...Object.fromEntries(Object.entries(timers).map(([k, v]) => [k, () => v])),
    // The start compartment's Date and Math: a Compartment's own are
    // tamed (no clock, no randomness), which is the point of asking.
    Date: () => Date,
    Math: () => Math,
    crypto: () => globalThis.crypto,
    SubtleCrypto: () => globalThis.SubtleCrypto,
    TextEncoder: () => TextEncoder,
    TextDecoder: () => TextDecoder,
    URL: () => URL,
    URLSearchParams: () => URLSearchParams,
    atob: () => globalThis.atob,
    btoa: () => globalThis.btoa,
    AbortController: () => globalThis.AbortController,
    AbortSignal: () => globalThis.AbortSignal,
  };
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const name of requested) {
    if (network.includes(name)) {
      throw Error(
        `Vat "${vatId}" requested global "${name}": the network is not available to vats here (the reference grants it only with a host allow-list)`,
      );
    }
    if (!ALLOWED_GLOBAL_NAMES.includes(name) || (allowed && !allowed.includes(name))) {
      throw Error(`Vat "${vatId}" requested unknown global "${name}"`);
    }
    out[name] = harden(factories[name]());
  }
  return out;
};
