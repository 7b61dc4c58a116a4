// Starts, then throws from bootstrap.
import { Far } from '@endo/far';

console.log('bootstrap throw');

export function buildRootObject() {
  console.log('buildRootObject');
  return Far('root', {
    bootstrap() {
      console.log('bootstrap');
      throw Error('from bootstrap');
    },
  });
}
