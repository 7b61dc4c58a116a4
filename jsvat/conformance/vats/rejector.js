// Answers foo(reject): a value, or an error thrown from the method, which
// rejects the caller's result.
import { Far } from '@endo/far';

export function buildRootObject({ logger }) {
  const { log } = logger.subLogger({ tags: ['test'] });
  return Far('root', {
    foo(reject) {
      if (reject) {
        log('reject');
        throw Error('error: bar');
      }
      log('resolve');
      return 'bar';
    },
  });
}
