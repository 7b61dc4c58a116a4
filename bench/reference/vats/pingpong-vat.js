// One vat of the ping-pong pair. The bootstrap vat ("alice") keeps the
// other root; its `pingLoop(n)` awaits E(bob).ping(i) n times in a row, so
// each round trip is a `send` delivery to bob and a `notify` back to alice.
import { E, Far } from '@endo/far';

export function buildRootObject() {
  let peer;
  const root = Far('root', {
    bootstrap(vats) {
      peer = vats.bob;
      return root;
    },
    ping(i) {
      return i;
    },
    async pingLoop(n) {
      let last;
      for (let i = 0; i < n; i += 1) {
        last = await E(peer).ping(i);
      }
      return last;
    },
  });
  return root;
}
