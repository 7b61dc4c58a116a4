// Garbage collection between two JavaScript vats: the importer holds an
// object of the exporter's while it likes, then forgets it.
import { E, Far } from '@endo/far';

export function buildRootObject() {
  let held;
  return Far('root', {
    bootstrap() {},
    makeThing: () => Far('thing', { ping: () => 'pong' }),
    async take(exporter) {
      held = await E(exporter).makeThing();
      return E(held).ping();
    },
    forget() {
      held = undefined;
    },
  });
}
