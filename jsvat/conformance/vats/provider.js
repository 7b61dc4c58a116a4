// Hands out an ephemeral object: a heap exo that lives as long as this
// incarnation.
import { Far } from '@endo/far';

export function buildRootObject() {
  const counter = Far('EphemeralCounter', { increment: () => 999 });
  return Far('root', {
    getEphemeral: () => counter,
    ping: () => 'pong',
  });
}
