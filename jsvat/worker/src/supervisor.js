// The vat side of the vat protocol (docs/vat-protocol.md), as the
// reference's VatSupervisor has it: the kernel calls initVat once, then
// deliver for each delivery, and ping whenever it likes; the vat's
// syscalls go to the kernel as "syscall" notifications, optimistically
// (liveslots cannot wait for an answer: the kernel checks each as it
// arrives and fails the delivery if one is illegal). The vatstore lives
// here (vatstore.js) and each result carries its checkpoint.
import { makeLiveSlots } from '@agoric/swingset-liveslots';
import { makeMarshal } from '@endo/marshal';

import { importVatBundle, readBundle } from './bundle.js';
import { makeLogger } from './console.js';
import { makeEndowments } from './endowments.js';
import { makeVatStore } from './vatstore.js';

// JSON-RPC 2.0 error codes (the spec's), with the reference's use.
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

const marshal = makeMarshal(undefined, undefined, { serializeBodyFormat: 'smallcaps' });

// The delivery kinds the kernel may send through "deliver" (startVat goes
// through initVat), with the exact arity of each.
const DELIVERY_ARITY = harden({
  message: 3,
  notify: 2,
  dropExports: 2,
  retireExports: 2,
  retireImports: 2,
  bringOutYourDead: 1,
});

/**
 * Waits until the vat's promise queue is empty: setImmediate runs after
 * every pending promise job, as SwingSet's waitUntilQuiescent does.
 */
const waitUntilQuiescent = () => new Promise(resolve => setImmediate(resolve));

/**
 * @param {() => void} [engineGC]
 */
const makeGCAndFinalize = engineGC => async () => {
  if (!engineGC) {
    await waitUntilQuiescent();
    return;
  }
  // Two collections with the event loop turned between them, so that
  // finalizers queued by the first run and what they release is found.
  engineGC();
  await waitUntilQuiescent();
  engineGC();
  await waitUntilQuiescent();
};

// Liveslots asks for a meter control; nothing is metered here.
const makeMeterControl = () => {
  let off = 0;
  const runWithoutMetering = thunk => {
    off += 1;
    try {
      return thunk();
    } finally {
      off -= 1;
    }
  };
  return harden({
    isMeteringDisabled: () => off > 0,
    assertIsMetered: msg => {
      if (off > 0) throw Error(msg);
    },
    assertNotMetered: msg => {
      if (off === 0) throw Error(msg);
    },
    runWithoutMetering,
    runWithoutMeteringAsync: async thunk => {
      off += 1;
      try {
        return await thunk();
      } finally {
        off -= 1;
      }
    },
    unmetered: fn => harden((...args) => runWithoutMetering(() => fn(...args))),
  });
};

class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const isRecord = v => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * @param {object} io
 * @param {(msg: object, urgent?: boolean) => void} io.write sends one frame to the kernel (urgent: now, not at the request's end)
 * @param {(json: string) => void} io.writeJSON sends one frame given as its JSON text
 * @param {() => void} [io.engineGC]
 * @param {string | undefined} io.bundleCache
 * @param {string} io.vatId the vat's id, if known at spawn
 * @param {(why: string) => never} io.exit logs why and ends the worker
 * @param {() => void} [io.tierUp] called once the vat has started (main.js: V8's budget)
 */
export const makeSupervisor = ({ write, writeJSON, engineGC, bundleCache, vatId: spawnVatId, exit, tierUp = () => {} }) => {
  let vatId = spawnVatId || 'v?';
  /** @type {ReturnType<typeof makeVatStore> | undefined} */
  let store;
  /** @type {((vdo: unknown) => Promise<void>) | undefined} */
  let dispatch;
  let loading = false;
  // True while a delivery (initVat's startVat included) runs: a syscall
  // outside one (a timer's callback) is refused here first, since the
  // kernel would refuse it anyway and fail the vat.
  let inDelivery = false;

  const log = entry => write({ jsonrpc: '2.0', method: 'notify', params: ['logger', JSON.stringify(entry)] }, true);
  const workerLog = makeLogger(log, ['worker']);

  const notifySyscall = vso => {
    if (!inDelivery) {
      // A timer's callback, say. The kernel would refuse the syscall and
      // fail the vat; ending here names the cause in the kernel's log.
      exit(`syscall ${vso[0]} outside a delivery: a vat may make syscalls only while it handles one`);
    }
    // The envelope is constant: only the syscall is stringified. The text
    // is what JSON.stringify makes of {jsonrpc, method, params}.
    writeJSON(`{"jsonrpc":"2.0","method":"syscall","params":${JSON.stringify(vso)}}`);
    return null;
  };

  // The syscall object liveslots calls: kernel syscalls become
  // notifications; vatstore calls are answered by the local store.
  const makeSyscall = () =>
    harden({
      send: (target, methargs, result) =>
        notifySyscall(['send', target, result === undefined || result === null ? { methargs } : { methargs, result }]),
      subscribe: vpid => notifySyscall(['subscribe', vpid]),
      resolve: resolutions => notifySyscall(['resolve', resolutions]),
      exit: (isFailure, info) => notifySyscall(['exit', isFailure, info]),
      dropImports: vrefs => notifySyscall(['dropImports', vrefs]),
      retireImports: vrefs => notifySyscall(['retireImports', vrefs]),
      retireExports: vrefs => notifySyscall(['retireExports', vrefs]),
      abandonExports: vrefs => notifySyscall(['abandonExports', vrefs]),
      callNow: () => {
        throw Error('callNow is not supported (this kernel has no devices)');
      },
      vatstoreGet: key => store.get(key),
      vatstoreGetNextKey: key => store.getNextKey(key),
      vatstoreSet: (key, value) => store.set(key, value),
      vatstoreDelete: key => store.delete(key),
    });

  /**
   * Runs one delivery through liveslots and returns the reference's
   * result: [checkpoint, deliveryError], the error a string or null.
   *
   * @param {unknown} vdo
   */
  const runDelivery = async vdo => {
    let deliveryError = null;
    inDelivery = true;
    try {
      // Not hardened, unlike the reference's supervisor: the delivery object
      // is the kernel's message to this vat alone, and liveslots never hands
      // any part of it to vat code (arguments reach it unserialized into
      // fresh hardened values). harden walked it on every delivery and was
      // the worker's largest single cost in a ping-pong profile (a median of
      // about 14% of a delivery's CPU).
      await dispatch(vdo);
    } catch (e) {
      deliveryError = e instanceof Error ? e.message : String(e);
      workerLog.error(`delivery failed: ${deliveryError}`);
    } finally {
      inDelivery = false;
    }
    return [store.checkpoint(), deliveryError];
  };

  const initVat = async params => {
    if (loading || dispatch) {
      throw new RpcError(INVALID_REQUEST, 'initVat received twice: the vat is already loaded');
    }
    if (!isRecord(params) || !isRecord(params.vatConfig) || !Array.isArray(params.state)) {
      throw new RpcError(INVALID_PARAMS, 'initVat wants {vatConfig, state}');
    }
    const { vatConfig, state, allowedGlobalNames } = params;
    if (typeof params.vatId === 'string' && params.vatId !== '') {
      vatId = params.vatId;
    }
    if (typeof vatConfig.bundleSpec !== 'string') {
      throw new RpcError(INVALID_PARAMS, 'initVat: vatConfig.bundleSpec must be a string (only bundleSpec vats run here)');
    }
    for (const e of state) {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string') {
        throw new RpcError(INVALID_PARAMS, 'initVat: state must be a list of [key, value] strings');
      }
    }
    loading = true;
    // Refused before anything loads: an unknown global fails the launch
    // with an error naming it.
    const requested = makeEndowments(vatId, vatConfig.globals, allowedGlobalNames);
    const bundle = await readBundle(vatConfig.bundleSpec, bundleCache);
    store = makeVatStore(state);

    const vatConsole = makeLogger(log, ['console']);
    const vatGlobals = {
      console: vatConsole,
      // SES's assert; @endo packages inside the bundle expect it.
      assert: globalThis.assert,
      ...requested,
    };
    const buildVatNamespace = async (lsEndowments, inescapable) =>
      importVatBundle(bundle, { ...vatGlobals, ...lsEndowments }, inescapable);
    const gcTools = harden({
      WeakRef,
      FinalizationRegistry,
      waitUntilQuiescent,
      gcAndFinalize: makeGCAndFinalize(engineGC),
      meterControl: makeMeterControl(),
    });
    const vatPowers = harden({ logger: makeLogger(log, ['vat']) });
    const ls = makeLiveSlots(makeSyscall(), vatId, vatPowers, {}, gcTools, makeLogger(log, ['liveslots']), buildVatNamespace);
    dispatch = ls.dispatch;
    const parameters = vatConfig.parameters ?? {};
    const serParams = marshal.toCapData(harden(parameters));
    const started = await runDelivery(['startVat', serParams]);
    tierUp();
    return started;
  };

  const deliver = async params => {
    if (!dispatch) {
      throw new RpcError(INVALID_REQUEST, 'deliver before initVat');
    }
    if (!Array.isArray(params) || !(params[0] in DELIVERY_ARITY) || params.length !== DELIVERY_ARITY[params[0]]) {
      throw new RpcError(INVALID_PARAMS, `deliver: not a delivery: ${JSON.stringify(params).slice(0, 80)}`);
    }
    return runDelivery(params);
  };

  const methods = { initVat, deliver, ping: async () => 'pong' };

  /**
   * Handles one message from the kernel and writes its response.
   *
   * @param {any} msg
   */
  const handle = async msg => {
    const id = isRecord(msg) && (typeof msg.id === 'string' || typeof msg.id === 'number') ? msg.id : null;
    const respondError = (code, message) =>
      write({ jsonrpc: '2.0', id, error: { code, message: String(message) } });
    if (!isRecord(msg) || msg.jsonrpc !== '2.0' || typeof msg.method !== 'string' || id === null) {
      respondError(INVALID_REQUEST, 'not a JSON-RPC 2.0 request with an id');
      return;
    }
    const method = Object.hasOwn(methods, msg.method) ? methods[msg.method] : undefined;
    if (!method) {
      respondError(METHOD_NOT_FOUND, `no method ${JSON.stringify(msg.method)}`);
      return;
    }
    try {
      const result = await method(msg.params);
      write({ jsonrpc: '2.0', id, result });
    } catch (e) {
      respondError(e instanceof RpcError ? e.code : INTERNAL_ERROR, e instanceof Error ? e.message : String(e));
    }
  };

  return harden({ handle, log: workerLog });
};
