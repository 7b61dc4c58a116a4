// Vats that fail to start, each in the way parameters.fail names: the
// launch must fail, saying why, and leave nothing behind.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters) {
  if (parameters?.fail === 'build') {
    throw Error('buildRootObject refuses');
  }
  if (parameters?.fail === 'notFar') {
    return harden({ bootstrap() {} });
  }
  return Far('root', {
    bootstrap() {
      if (parameters?.fail === 'bootstrap') {
        throw Error('bootstrap refuses');
      }
      return 'fine';
    },
  });
}
