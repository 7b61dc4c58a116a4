// The bootstrap vat: written as for ocap-kernel (E, Far, baggage). At
// bootstrap it greets through the greeter, asks it for a visit counter
// and increments that by promise pipelining (the incr is sent to the
// counter before the counter exists), and keeps the counter in baggage,
// so visit() works in every later incarnation too. In the mixed cluster
// it also talks to two Go vats: it adds to std/counter's durable count,
// and sends one of its own objects to echo/bob, which sends it back: the
// presence that returns is the very object it sent.
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  return Far('root', {
    async bootstrap(vats) {
      const greeting = await E(vats.greeter).greet('ocap-kernel');
      const counter = E(vats.greeter).makeCounter('visits');
      const visits = await E(counter).incr();
      baggage.init('counter', await counter);
      const parts = [greeting, `visits: ${visits}`];
      if (vats.counter) {
        parts.push(`Go counter: ${await E(vats.counter).incr(2)}`);
      }
      if (vats.echo) {
        const token = Far('token', { name: () => 'a JS object' });
        const back = await E(vats.echo).echo(token);
        parts.push(`echo/bob returned ${back === token ? 'the same' : 'another'} object`);
      }
      console.log(parts.join('; '));
      return parts.join('; ');
    },
    // visit works after any restart: the counter is found in baggage.
    visit: () => E(baggage.get('counter')).incr(),
    describe: () => E(baggage.get('counter')).describe(),
  });
}
