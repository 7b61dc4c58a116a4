// Leaves a promise rejected, with no handler, while its module is
// evaluated.
import { Far } from '@endo/far';

console.log('global uncaught rejection');
Promise.reject(Error('from global scope'));

export function buildRootObject() {
  return Far('root', { bootstrap: () => console.log('bootstrap') });
}
