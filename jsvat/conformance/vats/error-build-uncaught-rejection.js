// Leaves a promise rejected, with no handler, in buildRootObject.
import { Far } from '@endo/far';

console.log('build uncaught rejection');

export function buildRootObject() {
  console.log('buildRootObject');
  Promise.reject(Error('from buildRootObject'));
  return Far('root', { bootstrap: () => console.log('bootstrap') });
}
