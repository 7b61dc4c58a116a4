// The first version of an upgradable vat: things it makes are durable (a
// durable kind, whose handle lives in baggage) or ephemeral (heap
// objects); every version must define the kind again.
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const { VatData } = globalThis;
  if (!baggage.has('thingKind')) {
    baggage.init('thingKind', VatData.makeKindHandle('Thing'));
    baggage.init('upgrades', 0);
  }
  const makeThing = VatData.defineDurableKind(baggage.get('thingKind'), label => ({ label }), {
    describe: ({ state }) => `v1 durable ${state.label}`,
  });
  console.log(`v1 started, upgrades so far: ${baggage.get('upgrades')}`);
  return Far('root', {
    bootstrap: () => {},
    version: () => 'v1',
    makeDurable: label => makeThing(label),
    makeEphemeral: label => Far('EphemeralThing', { describe: () => `v1 ephemeral ${label}` }),
  });
}
