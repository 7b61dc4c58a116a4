// Counts the work it did in baggage; parameters give its id.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const name = parameters.name ?? 'Worker';
  const id = parameters.id ?? 0;
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);

  if (baggage.has('workCount')) {
    tlog(`resumed with work count: ${baggage.get('workCount')}`);
  } else {
    baggage.init('workCount', 0);
    tlog(`initialized with id: ${id}`);
  }

  return Far('worker', {
    bootstrap() {
      tlog('bootstrap called');
      return `Worker${id} initialized`;
    },

    resume() {
      tlog('resume called');
      const n = baggage.get('workCount') + 1;
      baggage.set('workCount', n);
      tlog(`did work, count: ${n}`);
      return `Worker${id}(${n})`;
    },
  });
}
