// Version 2 of durable-v1.js: the same kind, re-defined with a new method.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, _parameters, baggage) {
  const { VatData } = vatPowers;
  const makeCounter = VatData.defineDurableKind(baggage.get('counterKind'), start => ({ n: start }), {
    incr: ({ state }) => {
      state.n += 1;
      return state.n;
    },
    read: ({ state }) => state.n,
    double: ({ state }) => {
      state.n *= 2;
      return state.n;
    },
    version: () => 2,
  });
  return Far('durable', {
    bootstrap: () => 'ready',
    main: () => baggage.get('main'),
    make: start => makeCounter(start),
    version: () => 2,
  });
}
