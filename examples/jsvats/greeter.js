// The greeter vat: written as for ocap-kernel. Its root is an exo
// (makeExo with an interface guard), and the visitor counters it makes
// are of a durable kind whose handle lives in baggage, so they, and the
// count each holds, outlive the vat's process: a restart, an upgrade or a
// resumed kernel finds them where the last incarnation left them.
import { makeExo } from '@endo/exo';
import { M } from '@endo/patterns';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const { VatData } = globalThis;
  const greeting = parameters.greeting ?? 'Hello';

  // A durable kind must be defined again by every incarnation, from the
  // handle the first one put in baggage.
  if (!baggage.has('counterKind')) {
    baggage.init('counterKind', VatData.makeKindHandle('VisitCounter'));
  }
  const makeCounter = VatData.defineDurableKind(
    baggage.get('counterKind'),
    name => ({ name, visits: 0 }),
    {
      incr: ({ state }) => {
        state.visits += 1;
        return state.visits;
      },
      describe: ({ state }) => `${state.name}: ${state.visits} visits`,
    },
  );

  console.log(`greeter started (${greeting})`);
  return makeExo(
    'Greeter',
    M.interface('Greeter', {
      greet: M.call(M.string()).returns(M.string()),
      makeCounter: M.call(M.string()).returns(M.remotable('VisitCounter')),
    }),
    {
      greet: name => `${greeting}, ${name}!`,
      makeCounter: name => makeCounter(name),
    },
  );
}
