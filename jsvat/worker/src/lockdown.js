// Hardens the realm before anything else runs. main.js imports this module
// first, so every module it imports after it (liveslots, the bundle
// loader) is evaluated in a locked-down realm, as SES requires.
//
// The host powers the worker itself needs (the fds of the vat protocol, the
// garbage collector) are taken here, before lockdown, and handed on only to
// the worker's own code: vat code runs in a Compartment and sees none of
// them.
import 'ses';
import '@endo/eventual-send/shim.js';

// `node --expose-gc` puts gc on globalThis; liveslots' bringOutYourDead
// needs it to find unreachable objects deterministically.
export const engineGC = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

lockdown({
  // The worker's own console (stderr) is not reachable by vat code, which
  // gets a forwarding console (console.js); unsafe taming keeps Node's.
  consoleTaming: 'unsafe',
  // Stacks are kept so a vat's errors are useful in the kernel's log;
  // they never reach another vat (errors cross as name and message).
  errorTaming: 'unsafe',
  overrideTaming: 'severe',
  domainTaming: 'unsafe',
  stackFiltering: 'concise',
  // The worker reports unhandled rejections itself (main.js), through the
  // vat's log with the reason printed whole: SES's own report goes to
  // stderr and printed an Error as {}.
  unhandledRejectionTrapping: 'none',
});
