// The JavaScript half of a mixed cluster (its Go half is in the tests):
// objects and promises cross both ways, and each side can forget what it
// holds so that garbage collection runs across the two.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject() {
  let gobob;
  let held; // an object of the Go vat, while held
  let settle; // settles the promise givePromise handed out
  let answer; // the Go vat's answer, awaiting it
  return Far('jsalice', {
    bootstrap(vats) {
      gobob = vats.gobob;
      return 'jsalice ready';
    },
    // Hands the Go vat an object of ours; it calls back into it later.
    // (Not a method called "name": E's proxy cannot carry that one, as a
    // function's name is not configurable.)
    giveObject() {
      const thing = Far('jsthing', { describe: () => 'a thing from JavaScript' });
      return E(gobob).keep(thing);
    },
    // Asks the Go vat for an object of its and calls it.
    async useGoObject() {
      held = await E(gobob).makeThing();
      return E(held).describe();
    },
    forget() {
      held = undefined;
    },
    // Hands the Go vat a promise we decide, unsettled.
    givePromise() {
      const { promise, resolve } = makePromiseKit();
      settle = resolve;
      answer = E(gobob).addOne(promise);
      return 'given';
    },
    // Settles it, and returns the Go vat's answer.
    settle(v) {
      settle(v);
      return answer;
    },
    // Takes a promise the Go vat decides and waits for it.
    async double(p) {
      return (await p) * 2;
    },
  });
}
