// The second version: the same durable kind with new behaviour; the
// objects made by v1 now answer with it.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const { VatData } = globalThis;
  baggage.set('upgrades', baggage.get('upgrades') + 1);
  const makeThing = VatData.defineDurableKind(baggage.get('thingKind'), label => ({ label }), {
    describe: ({ state }) => `v2 durable ${state.label}`,
  });
  console.log(`v2 started, upgrades so far: ${baggage.get('upgrades')}`);
  return Far('root', {
    bootstrap: () => {},
    version: () => 'v2',
    makeDurable: label => makeThing(label),
    makeEphemeral: label => Far('EphemeralThing', { describe: () => `v2 ephemeral ${label}` }),
  });
}
