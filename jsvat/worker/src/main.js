#!/usr/bin/env node
// The worker process of one JavaScript vat incarnation. The kernel starts
// it as
//
//	node --expose-gc src/main.js [--vat ID] [--max-frame BYTES] [--bundle-cache DIR]
//
// with the vat protocol on fds 3 (from the kernel) and 4 (to the kernel),
// and ends it with SIGKILL. It also exits by itself when the kernel closes
// fd 3, or breaks the protocol.
import { engineGC } from './lockdown.js';
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { IN_FD, OUT_FD, makeWriter, readFrames } from './wire.js';
import { makeSupervisor } from './supervisor.js';
import { describeError } from './console.js';

// Exit codes, so the kernel's log can say why a worker ended by itself.
const EXIT_PROTOCOL = 2; // the kernel's frames broke the protocol
const EXIT_VAT = 3; // the vat broke the model (a syscall outside a delivery)
const EXIT_WRITE = 4; // a frame could not be written

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const vatId = opt('--vat', '');
const maxFrame = Number(opt('--max-frame', String(64 << 20)));
const bundleCache = opt('--bundle-cache', undefined);
// V8's interrupt budget once the vat has started (jsvat.Options.TierUpBudget);
// absent or not a positive integer: V8's own is kept.
const tierUpBudget = Number(opt('--tier-up-budget', '0'));

const writer = makeWriter(OUT_FD, maxFrame);
const cannotWrite = e => {
  process.stderr.write(`worker ${vatId}: cannot write to the kernel: ${e.message}\n`);
  process.exit(EXIT_WRITE);
};
const write = (msg, urgent) => {
  try {
    writer.write(msg, urgent);
  } catch (e) {
    cannotWrite(e);
  }
};
// writeJSON sends a frame given as its JSON text (the supervisor builds a
// syscall's envelope around the one part it must stringify).
const writeJSON = json => {
  try {
    writer.writeJSON(json);
  } catch (e) {
    cannotWrite(e);
  }
};

const exit = why => {
  supervisor.log.error(why);
  try {
    writer.flush(); // the log entry saying why, before the end
  } catch {
    // the kernel may be gone already
  }
  process.exit(EXIT_VAT);
};

// tierUp lowers V8's interrupt budget, once, after the vat's start: from
// then on the functions a delivery runs (liveslots, marshal, harden, the
// vat's own) are optimized after a few hundred calls, not thousands. It is
// not done before the start, where a low budget made V8 optimize the code
// of SES, liveslots and the bundle that runs once, and a launch took three
// times as long. node:v8 is the worker's, imported outside any
// compartment: vat code cannot reach it.
let tieredUp = false;
const tierUp = () => {
  if (tieredUp || !Number.isInteger(tierUpBudget) || tierUpBudget <= 0) return;
  tieredUp = true;
  setFlagsFromString(`--interrupt-budget=${tierUpBudget}`);
};

const supervisor = makeSupervisor({ write, writeJSON, engineGC, bundleCache, vatId, exit, tierUp });

// describeReason prints a rejection's reason. An Error is printed as its
// stack (which starts with name and message), or name and message:
// Node's inspect printed a hardened Error of the vat's as {}. The reason
// is the vat's, so reading it may throw (a proxy, a getter): that is
// printed as such instead of taking the worker down.
const describeReason = reason => {
  try {
    if (reason instanceof Error) {
      return describeError(reason);
    }
    return typeof reason === 'string' ? JSON.stringify(reason) : inspect(reason, { depth: 2, breakLength: Infinity });
  } catch (e) {
    return `(a reason that cannot be printed: ${e instanceof Error ? e.message : typeof e})`;
  }
};

// A promise the vat rejected and never handled is a bug of the vat's, not
// of the worker's: it is logged (with its reason, stack and all) and the
// vat goes on, as under SwingSet. Without a handler Node would end the
// process.
//
// Node calls a rejection unhandled as soon as a turn of the event loop
// ends without a handler on it, and liveslots handles some of its own
// rejections a turn later (a delivery's failure is awaited only once the
// vat is quiescent). So, as SES does, a rejection is reported only if it
// is still unhandled two turns after Node flagged it; one handled
// meanwhile ('rejectionHandled') is forgotten, and, the listener being
// there, Node prints no warning for it either.
const unhandled = new Map();
let reportScheduled = false;
const reportUnhandled = () => {
  reportScheduled = false;
  for (const [promise, reason] of unhandled) {
    unhandled.delete(promise);
    supervisor.log.warn(`unhandled rejection: ${describeReason(reason)}`);
  }
};
process.on('unhandledRejection', (reason, promise) => {
  unhandled.set(promise, reason);
  if (!reportScheduled) {
    reportScheduled = true;
    setImmediate(() => setImmediate(reportUnhandled));
  }
});
process.on('rejectionHandled', promise => {
  unhandled.delete(promise);
});

// One message at a time, in order: the kernel sends the next request only
// after the answer to the last, so a queue of one is what it expects; the
// chain keeps that true even for a kernel that does not wait.
let chain = Promise.resolve();
readFrames(
  IN_FD,
  maxFrame,
  msg => {
    // What the request makes the vat write is written at its end, in
    // one go (wire.js, makeWriter).
    chain = chain.then(() => writer.batch(() => supervisor.handle(msg)));
  },
  err => {
    if (err) {
      process.stderr.write(`worker ${vatId}: ${err.message}\n`);
      process.exit(EXIT_PROTOCOL);
    }
    // The kernel closed the pipe: it is done with this vat.
    process.exit(0);
  },
);
