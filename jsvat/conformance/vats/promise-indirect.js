// A promise settled with another promise (promiseIndirect): bob settles
// the promise he handed out second with the result of the first message,
// which alice passes back to him; alice sees the first result's value.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  let pending;

  return Far('root', {
    async bootstrap({ bob }) {
      tlog(`running test ${test}`);
      const firstP = E(bob).genPromise1();
      const secondP = E(bob).genPromise2();
      await E(bob).resolve(harden([firstP]));
      tlog(`resolution == ${await secondP}`);
      await E(bob).loopback();
      return 'done';
    },

    loopback() {},

    genPromise1() {
      tlog('genPromise1');
      return 'hello';
    },

    genPromise2() {
      tlog('genPromise2');
      pending = makePromiseKit();
      return pending.promise;
    },

    // wrapped[0] is a promise (alice's view of the first result).
    resolve(wrapped) {
      tlog('resolve');
      pending.resolve(wrapped[0]);
    },
  });
}
