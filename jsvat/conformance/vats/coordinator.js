// Keeps its workers (imports from other vats) in baggage at bootstrap,
// and after any restart still finds them there and has them work.
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const name = parameters.name ?? 'Coordinator';
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);

  if (baggage.has('workCount')) {
    tlog(`resumed with work count: ${baggage.get('workCount')}`);
  } else {
    baggage.init('workCount', 0);
    tlog('initialized');
  }
  const workers = () => (baggage.has('workers') ? baggage.get('workers') : undefined);

  return Far('coordinator', {
    bootstrap({ worker1, worker2 }) {
      tlog('bootstrap called');
      if (!workers()) {
        baggage.init('workers', harden({ worker1, worker2 }));
        tlog(`stored ${Object.keys(workers()).length} workers`);
      }
      return `Coordinator initialized with ${Object.keys(workers()).length} workers`;
    },

    async resume() {
      tlog('resume called');
      const w = workers();
      if (!w) {
        tlog('no workers available');
        return 'No workers available';
      }
      const done = await Promise.all([E(w.worker1).resume(), E(w.worker2).resume()]);
      baggage.set('workCount', baggage.get('workCount') + 1);
      const report = `Work completed: ${done.join(', ')}`;
      tlog(report);
      return report;
    },
  });
}
