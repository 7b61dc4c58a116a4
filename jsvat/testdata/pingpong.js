// Two of these play ping-pong: run(n) makes n round trips to the peer,
// each waiting for the last (so every one is two cranks: the ping, and the
// notify of its answer).
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters) {
  const name = parameters?.name ?? 'pingpong';
  let peer;
  return Far('pingpong', {
    bootstrap(vats) {
      peer = vats[parameters.peer];
      return `${name} ready`;
    },
    setPeer(p) {
      peer = p;
    },
    ping(n) {
      return n + 1;
    },
    async run(n) {
      let x = 0;
      for (let i = 0; i < n; i += 1) {
        // eslint-disable-next-line no-await-in-loop
        x = await E(peer).ping(x);
      }
      console.log(`${name}: ${n} round trips, last answer ${x}`);
      return x;
    },
    // Pipelining: a message to the result of a message, sent before the
    // first is answered (the kernel queues it on the promise).
    pipelined(start) {
      const counter = E(peer).makeCounter(start);
      return E(counter).incr();
    },
    makeCounter(start) {
      let n = start;
      return Far('counter', {
        incr() {
          n += 1;
          return n;
        },
      });
    },
  });
}
