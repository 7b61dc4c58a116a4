// The promise cycle across two deciders (promiseCrosswise): bob decides X,
// carol decides Y; bob settles X to [Y] and carol Y to [X], each in a
// delivery of its own.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

const isPromise = v => Promise.resolve(v) === v;

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  let mine; // the promise kit this vat handed out

  return Far('root', {
    async bootstrap({ bob, carol }) {
      tlog(`running test ${test}`);
      const xP = E(bob).genPromise();
      const yP = E(carol).genPromise();
      await E(bob).resolve(harden([yP]));
      await E(carol).resolve(harden([xP]));
      const [x0] = await xP;
      const [y0] = await yP;
      tlog(`isPromise(resolutionX[0]): ${isPromise(x0)}`);
      tlog(`isPromise(resolutionY[0]): ${isPromise(y0)}`);
      await E(bob).loopback();
      return 'done';
    },

    loopback() {},

    genPromise() {
      tlog('genPromise');
      mine = makePromiseKit();
      return mine.promise;
    },

    resolve(value) {
      tlog('resolve');
      mine.resolve(value);
    },
  });
}
