// Messages to promises (resolvePipelined, messageToPromise). In
// resolvePipelined alice sends to the result of first() before it is
// settled, passing that same promise along; bob's first() returns an
// object at once. In messageToPromise bob's setup() returns a promise he
// settles to the object only when alice asks (doResolve), so the message
// alice sent to it waits in the kernel until then. Every vat is told the
// test; only the bootstrap vat runs it.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  const thing = Far('thing', {
    second() {
      tlog('thing.second');
      return "Bob's second answer";
    },
    doSomething() {
      tlog('thing.doSomething');
      return 'deferred something';
    },
  });
  let deferred; // messageToPromise: the kit behind setup()'s answer

  const report = (what, p, tag, quote = '') =>
    p.then(
      value => {
        tlog(`${what} result resolved to ${quote}${value}${quote}`);
        return `${tag}succ`;
      },
      reason => {
        tlog(`${what} result rejected with ${quote}${reason}${quote}`);
        return `${tag}fail`;
      },
    );

  const tests = harden({
    async resolvePipelined(bob) {
      const firstP = E(bob).first();
      const secondP = E(firstP).second(firstP);
      const verdicts = Promise.all([report('first', firstP, 'p1'), report('second', secondP, 'p2')]);
      await E(bob).loopback();
      return verdicts;
    },
    async messageToPromise(bob) {
      const laterP = E(bob).setup();
      const verdict = report('second', E(laterP).doSomething(), 'p2', "'");
      await E(bob).doResolve();
      tlog('invoking loopback');
      await E(bob).loopback();
      tlog('loopback done');
      return verdict;
    },
  });

  return Far('root', {
    async bootstrap({ bob }) {
      tlog(`running test ${test}`);
      if (!Object.hasOwn(tests, test)) {
        throw Error(`unknown test ${test}`);
      }
      return tests[test](bob);
    },

    // In messageToPromise the round trip is part of the log: it shows
    // that the message alice sent to the promise ran before it.
    loopback() {
      if (test === 'messageToPromise') {
        tlog('loopback');
      }
    },

    first() {
      tlog('first');
      return thing;
    },

    setup() {
      tlog('setup');
      deferred = makePromiseKit();
      return deferred.promise;
    },

    doResolve() {
      tlog('doResolve');
      deferred.resolve(thing);
    },
  });
}
