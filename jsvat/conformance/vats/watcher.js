// Watches another vat's promise two ways: with a heap callback (.then),
// which lives as long as this incarnation, and with a durable promise
// watcher (VatData.watchPromise), which liveslots keeps in the vatstore so
// that a later incarnation still hears how the promise settled. Also
// plays the other side: hold() hands out a promise kept in the heap, and
// release() settles it.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const { VatData } = globalThis;
  const name = parameters.name ?? 'anonymous';
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);
  const text = reason => (reason instanceof Error ? reason.message : String(reason));

  // The watcher's kind handle lives in baggage: each incarnation
  // re-provides the same kind, and liveslots finds its watches again.
  if (!baggage.has('watcherKind')) {
    baggage.init('watcherKind', VatData.makeKindHandle('Watcher'));
  }
  const watcher = VatData.providePromiseWatcher(
    baggage.get('watcherKind'),
    value => tlog(`durable watcher: fulfilled with ${value}`),
    reason => tlog(`durable watcher: rejected with ${text(reason)}`),
  );
  tlog(`incarnation started`);

  let held;

  return Far('root', {
    bootstrap(vats) {
      baggage.init('peer', vats.peer);
      return `${name} ready`;
    },

    watch() {
      const p = E(baggage.get('peer')).hold();
      VatData.watchPromise(p, watcher);
      p.then(
        value => tlog(`heap callback: fulfilled with ${value}`),
        reason => tlog(`heap callback: rejected with ${text(reason)}`),
      );
      tlog('watching');
    },

    hold() {
      held = makePromiseKit();
      tlog('holding a promise');
      return held.promise;
    },

    release(value) {
      if (!held) {
        tlog('nothing to release');
        return false;
      }
      held.resolve(value);
      tlog('released');
      return true;
    },
  });
}
