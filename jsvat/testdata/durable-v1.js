// A durable counter kind, kept in baggage: it outlives restarts and
// upgrades. Version 1.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, _parameters, baggage) {
  const { VatData } = vatPowers;
  if (!baggage.has('counterKind')) {
    baggage.init('counterKind', VatData.makeKindHandle('counter'));
  }
  const makeCounter = VatData.defineDurableKind(baggage.get('counterKind'), start => ({ n: start }), {
    incr: ({ state }) => {
      state.n += 1;
      return state.n;
    },
    read: ({ state }) => state.n,
    version: () => 1,
  });
  if (!baggage.has('main')) {
    baggage.init('main', makeCounter(0));
  }
  return Far('durable', {
    bootstrap: () => 'ready',
    main: () => baggage.get('main'),
    make: start => makeCounter(start),
    version: () => 1,
  });
}
