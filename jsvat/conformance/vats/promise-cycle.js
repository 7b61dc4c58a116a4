// Promises settled to values that name each other: X to [Y] and Y to [X],
// by one vat in one delivery (promiseCycle) or in two (promiseCycleMultiCrank).
// The bootstrap vat then checks that each element it reads is a promise.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

const isPromise = v => Promise.resolve(v) === v;

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  // The two promises this vat hands out, by number.
  const kits = new Map();
  const make = n => {
    tlog(`genPromise${n}`);
    const kit = makePromiseKit();
    kits.set(n, kit);
    return kit.promise;
  };

  return Far('root', {
    async bootstrap({ bob }) {
      tlog(`running test ${test}`);
      const xP = E(bob).genPromise1();
      const yP = E(bob).genPromise2();
      switch (test) {
        case 'promiseCycle':
          await E(bob).resolveBoth(harden([xP]), harden([yP]));
          break;
        case 'promiseCycleMultiCrank':
          await E(bob).resolve1(harden([yP]));
          await E(bob).resolve2(harden([xP]));
          break;
        default:
          throw Error(`unknown test ${test}`);
      }
      const [x0] = await xP;
      const [y0] = await yP;
      tlog(`isPromise(resolutionX[0]): ${isPromise(x0)}`);
      tlog(`isPromise(resolutionY[0]): ${isPromise(y0)}`);
      await E(bob).loopback();
      return 'done';
    },

    loopback() {},

    genPromise1: () => make(1),
    genPromise2: () => make(2),

    // Crosswise: the first gets what names the second, and back.
    resolveBoth(toX, toY) {
      tlog('resolveBoth');
      kits.get(1).resolve(toY);
      kits.get(2).resolve(toX);
    },
    resolve1(value) {
      tlog('resolve1');
      kits.get(1).resolve(value);
    },
    resolve2(value) {
      tlog('resolve2');
      kits.get(2).resolve(value);
    },
  });
}
