// A vat for the adapter's tests: it answers, logs, calls back, keeps a
// count in baggage, and can be told to misbehave (spin, block).
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters, baggage) {
  const name = (parameters && parameters.name) || 'echo';
  if (!baggage.has('count')) {
    baggage.init('count', 0);
  }
  console.log(`${name}: buildRootObject`);
  return Far('echo', {
    bootstrap() {
      return `${name} ready`;
    },
    hello(who) {
      console.log(`${name}: hello from ${who}`);
      return `hello ${who}, from ${name}`;
    },
    incr() {
      const n = baggage.get('count') + 1;
      baggage.set('count', n);
      return n;
    },
    count() {
      return baggage.get('count');
    },
    async callBack(other, arg) {
      return E(other).hello(arg);
    },
    fail(why) {
      throw Error(why);
    },
    // A rejected promise nobody handles: the worker logs it and lives on.
    leaveRejection(why) {
      Promise.reject(Error(why));
      return 'left';
    },
    // One whose reason throws when read.
    leaveHostileRejection() {
      const e = Error('hidden');
      Object.defineProperty(e, 'message', {
        get() {
          throw Error('gotcha');
        },
      });
      Promise.reject(e);
      return 'left';
    },
    spin() {
      console.log(`${name}: spinning`);
      for (;;) {
        // never returns: the kernel's deadline must end it
      }
    },
  });
}
