// Keeps, in its heap, the provider's ephemeral object it got at bootstrap,
// and uses it when asked.
import { E, Far } from '@endo/far';

export function buildRootObject() {
  let counter;
  return Far('root', {
    async bootstrap({ provider }) {
      counter = await E(provider).getEphemeral();
    },
    useEphemeral: () => E(counter).increment(),
  });
}
