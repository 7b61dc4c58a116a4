// A message's result passed on, still pending, as an argument of the next
// message to the same vat: passResult (bob answers the first message with
// a string) and passResultPromise (bob answers it with a promise he
// settles only when the second message arrives). Every vat is told the
// test; only the bootstrap vat runs it.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  // Reports how a promise settled, and returns a verdict for it.
  const report = (what, p, tag) =>
    p.then(
      value => {
        tlog(`${what} result resolved to ${value}`);
        return `${tag}succ`;
      },
      reason => {
        tlog(`${what} result rejected with ${reason}`);
        return `${tag}fail`;
      },
    );

  let firstAnswer; // passResultPromise: the kit behind first()'s answer

  return Far('root', {
    async bootstrap({ bob }) {
      tlog(`running test ${test}`);
      const firstP = E(bob).first();
      const secondP = E(bob).second(firstP);
      const verdicts = Promise.all([report('first', firstP, 'p1'), report('second', secondP, 'p2')]);
      await E(bob).loopback();
      return verdicts;
    },

    loopback() {},

    first() {
      tlog('first');
      if (test !== 'passResultPromise') {
        return "Bob's first answer";
      }
      firstAnswer = makePromiseKit();
      return firstAnswer.promise;
    },

    async second(firstP) {
      tlog('second');
      if (firstAnswer) {
        firstAnswer.resolve('Bob answers first in second');
      }
      const value = await firstP;
      tlog(`parameter to second resolved to ${value}`);
      return "Bob's second answer";
    },
  });
}
