// A counter kept in baggage: a new vat starts it at 1, a restarted or
// resumed one (a new incarnation) finds it where the last one left it.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const name = parameters.name ?? 'Counter';
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);

  if (baggage.has('count')) {
    tlog(`resumed with count: ${baggage.get('count')}`);
  } else {
    baggage.init('count', 1);
    tlog(`initialized with count: ${baggage.get('count')}`);
  }

  return Far('counter', {
    bootstrap() {
      tlog('bootstrap called');
      return `Counter initialized with count: ${baggage.get('count')}`;
    },

    resume() {
      tlog('resume called');
      const count = baggage.get('count') + 1;
      baggage.set('count', count);
      tlog(`incremented to: ${count}`);
      return `Counter incremented to: ${count}`;
    },
  });
}
