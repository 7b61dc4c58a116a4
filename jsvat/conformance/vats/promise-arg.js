// A promise passed as a message argument, settled before the message is
// sent, after it is sent, or after the receiver has answered: the
// scenarios promiseArg1, promiseArg2 and promiseArg3. The bootstrap vat
// (its parameters name the test) sends the promise; the others receive it.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

// When, in each test, the promise is settled, and what it says then.
const WHEN = harden({
  promiseArg1: 'after send',
  promiseArg2: 'before send',
  promiseArg3: "after Bob's reply",
});

export function buildRootObject(vatPowers, parameters = {}) {
  const { name = 'anonymous', test = 'unspecified' } = parameters;
  // The lines the test compares: tagged 'test' and the vat's name.
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject, parameters ${JSON.stringify(parameters)}`);

  return Far('root', {
    async bootstrap({ bob }) {
      tlog(`running test ${test}`);
      if (!Object.hasOwn(WHEN, test)) {
        throw Error(`unknown test ${test}`);
      }
      const hi = makePromiseKit();
      const sayHi = () => hi.resolve(`${name} said hi ${WHEN[test]}`);

      if (test === 'promiseArg2') {
        tlog('resolving the promise that will be sent to Bob');
        sayHi();
      }
      tlog('sending the promise to Bob');
      const replyP = E(bob).hereIsAPromise(hi.promise);
      if (test === 'promiseArg1') {
        tlog('resolving the promise that was sent to Bob');
        sayHi();
      }
      tlog("awaiting Bob's response");
      const outcomeP = replyP.then(
        ([bobOutcomeP, note]) => {
          tlog(`Bob's response to hereIsAPromise: '${note}'`);
          if (test === 'promiseArg3') {
            tlog('resolving the promise that was sent to Bob');
            sayHi();
          }
          return bobOutcomeP;
        },
        reason => {
          tlog(`Bob's response to hereIsAPromise rejected as '${reason}'`);
          return 'bobFail';
        },
      );
      // A round trip to Bob: everything he logged before it is in.
      await E(bob).loopback();
      return outcomeP;
    },

    loopback() {},

    // Answers at once; what the promise turns out to be is reported later
    // through the first element of the answer, itself a promise.
    hereIsAPromise(promise) {
      const outcomeP = promise.then(
        value => {
          tlog(`the promise parameter resolved to '${value}'`);
          return 'bobPSucc';
        },
        reason => {
          tlog(`the promise parameter rejected as '${reason}'`);
          return 'bobPFail';
        },
      );
      return harden([outcomeP, `${name}.hereIsAPromise done`]);
    },
  });
}
