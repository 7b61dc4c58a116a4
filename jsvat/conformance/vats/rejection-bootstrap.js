// Calls the rejector three times, the second time asking it to fail, and
// logs what comes back; the failure in the middle changes nothing after.
import { E, Far } from '@endo/far';

export function buildRootObject({ logger }) {
  const { log } = logger.subLogger({ tags: ['test'] });
  return Far('root', {
    async bootstrap({ rejector }) {
      log(await E(rejector).foo(false));
      await E(rejector)
        .foo(true)
        .then(
          () => log('no error'),
          () => log('err'),
        );
      log(await E(rejector).foo(false));
    },
  });
}
