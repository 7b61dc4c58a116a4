// E-order through a promise that settles between sends: alice sends m(1)
// and m(2) to the promise bob's a() returned, waits for a round trip (so
// both are waiting on that promise in the kernel), then asks bob to
// release() it and, in the same delivery, sends m(3) and m(4) on it. All
// four were sent on one reference, in that order, so the object the
// promise settles to must receive them in that order.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(vatPowers, parameters = {}) {
  const name = parameters.name ?? 'anonymous';
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });

  const thing = Far('thing', {
    m(n) {
      tlog(`thing.m(${n})`);
      return n;
    },
  });
  let later;

  return Far('root', {
    async bootstrap({ bob }) {
      const p = E(bob).a();
      const first = [E(p).m(1), E(p).m(2)];
      await E(bob).ping();
      E(bob).release();
      const second = [E(p).m(3), E(p).m(4)];
      return Promise.all([...first, ...second]);
    },

    ping() {},

    a() {
      later = makePromiseKit();
      return later.promise;
    },

    release() {
      tlog('release');
      later.resolve(thing);
    },
  });
}
