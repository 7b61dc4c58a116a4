// A linked list of promises: each bobGen() settles the link handed out
// last to [count, next link], and the bootstrap vat walks the list one
// round trip per link until the count reaches the limit (the scenario
// promiseChain).
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  const limit = Number(parameters.limit ?? 3);
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  // The walker: wait for a link, and either ask for the next one or stop.
  const walk = async (gen, linkP) => {
    tlog('waitFor start');
    const [count, nextP] = await linkP;
    if (count >= limit) {
      tlog('finishing chain');
      return 'end of chain';
    }
    tlog(`count ${count} < ${limit}, recurring...`);
    await E(gen).bobGen();
    return walk(gen, nextP);
  };

  // The generator's state: how many links it made, and the open link.
  let made = 0;
  let open;

  return Far('root', {
    async bootstrap({ bob }) {
      tlog(`running test ${test}`);
      const firstP = E(bob).bobInit();
      await E(bob).bobGen();
      const doneP = walk(bob, firstP).catch(reason => {
        tlog(`Bob rejected, ${reason}`);
      });
      await E(bob).loopback();
      return doneP;
    },

    loopback() {},

    bobInit() {
      open = makePromiseKit();
      return open.promise;
    },

    bobGen() {
      const next = makePromiseKit();
      const link = harden([made, next.promise]);
      made += 1;
      tlog(`bobGen set value to ${made}`);
      open.resolve(link);
      open = next;
    },
  });
}
