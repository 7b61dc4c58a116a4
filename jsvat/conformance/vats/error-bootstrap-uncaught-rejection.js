// Leaves a promise rejected, with no handler, in bootstrap, which itself
// returns normally.
import { Far } from '@endo/far';

console.log('bootstrap uncaught rejection');

export function buildRootObject() {
  console.log('buildRootObject');
  return Far('root', {
    bootstrap() {
      console.log('bootstrap');
      Promise.reject(Error('from bootstrap'));
    },
  });
}
