// The js workload's vat: two of these play ping-pong. run(n) makes n
// round trips to the peer, each awaiting the last, so each is two cranks
// (the ping, and the notify of its answer).
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters) {
  let peer;
  return Far('pingpong', {
    bootstrap(vats) {
      peer = vats[parameters.peer];
      return 'ready';
    },
    ping(i) {
      return i;
    },
    async run(n) {
      for (let i = 0; i < n; i += 1) {
        // eslint-disable-next-line no-await-in-loop
        await E(peer).ping(i);
      }
      return n;
    },
  });
}
