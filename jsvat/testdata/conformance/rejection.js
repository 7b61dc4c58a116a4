// The reference's rejection scenario: a method that throws rejects its
// result, and the vat goes on. As "main" it calls the rejector three
// times; as "rejector" it answers, failing when told to.
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers) {
  const tlog = vatPowers.logger.subLogger({ tags: ['test'] }).log;
  return Far('root', {
    async bootstrap(vats) {
      for (const reject of [false, true, false]) {
        try {
          // eslint-disable-next-line no-await-in-loop
          tlog(await E(vats.rejector).foo(reject));
        } catch (e) {
          tlog('err');
        }
      }
      return 'done';
    },
    foo(reject) {
      if (reject) {
        tlog('reject');
        throw Error('error: bar');
      }
      tlog('resolve');
      return 'bar';
    },
  });
}
