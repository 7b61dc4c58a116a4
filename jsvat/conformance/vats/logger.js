// Logs through both channels a vat has: its console, and the logger in
// its vat powers (a sub-logger tagged 'test').
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}) {
  const name = parameters.name ?? 'anonymous';
  const logger = vatPowers.logger.subLogger({ tags: ['test'] });
  return Far('root', {
    bootstrap() {},
    foo() {
      logger.log(`foo: ${name}`);
      console.log(`bar: ${name}`);
      console.warn(`baz: ${name}`);
    },
  });
}
