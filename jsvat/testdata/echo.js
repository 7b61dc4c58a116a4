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
    spin() {
      console.log(`${name}: spinning`);
      for (;;) {
        // never returns: the kernel's deadline must end it
      }
    },
  });
}
