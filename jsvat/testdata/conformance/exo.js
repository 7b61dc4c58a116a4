// Exos and stores, as the reference's exo scenarios use them: makeExo with
// an interface guard (a bad argument rejects before the method runs),
// exo classes and class kits (facets), scalar map stores, and durable
// exo classes that keep their state across an upgrade.
import { makeScalarMapStore } from '@agoric/store';
import { E } from '@endo/far';
import { defineExoClass, defineExoClassKit, makeExo } from '@endo/exo';
import { M } from '@endo/patterns';

const CounterI = M.interface('Counter', {
  increment: M.call(M.gte(0)).returns(M.number()),
  read: M.call().returns(M.number()),
});

export function buildRootObject(vatPowers, _parameters, baggage) {
  const tlog = vatPowers.logger.subLogger({ tags: ['test', 'ExoTest'] }).log;
  const { VatData } = vatPowers;

  const makeCounter = defineExoClass(
    'Counter',
    CounterI,
    start => ({ n: start }),
    {
      increment(by) {
        this.state.n += by;
        return this.state.n;
      },
      read() {
        return this.state.n;
      },
    },
  );
  const makeTemperature = defineExoClassKit(
    'Temperature',
    {
      celsius: M.interface('Celsius', { get: M.call().returns(M.number()), set: M.call(M.number()).returns() }),
      fahrenheit: M.interface('Fahrenheit', { get: M.call().returns(M.number()), set: M.call(M.number()).returns() }),
    },
    c => ({ c }),
    {
      celsius: {
        get() {
          return this.state.c;
        },
        set(v) {
          this.state.c = v;
        },
      },
      fahrenheit: {
        get() {
          return (this.state.c * 9) / 5 + 32;
        },
        set(v) {
          this.state.c = ((v - 32) * 5) / 9;
        },
      },
    },
  );
  // A durable kind, by the liveslots API the reference's vats use.
  if (!baggage.has('kind')) {
    baggage.init('kind', VatData.makeKindHandle('DurableCounter'));
  }
  const makeDurable = VatData.defineDurableKind(baggage.get('kind'), n => ({ n }), {
    add: ({ state }, by) => {
      state.n += by;
      return state.n;
    },
  });
  const people = makeScalarMapStore('people');

  return makeExo('root', M.interface('root', {}, { defaultGuards: 'passable' }), {
    bootstrap() {
      const counter = makeCounter(10);
      tlog(`Created counter with initial value: ${counter.read()}`);
      tlog(`Incremented counter by 5 to: ${counter.increment(5)}`);
      try {
        counter.increment(-1);
        tlog('ERROR: Increment with negative value should have failed');
      } catch (e) {
        tlog('Increment with negative value failed, as it should');
      }
      const temp = makeTemperature(25);
      tlog(`Temperature at 25°C = ${temp.fahrenheit.get()}°F`);
      temp.fahrenheit.set(68);
      tlog(`After setting to 68°F, celsius is ${temp.celsius.get()}°C`);
      people.init('alice', harden({ age: 30 }));
      tlog(`Map store has alice: ${people.has('alice')}, size ${people.getSize()}`);
      return 'exo-test-complete';
    },
    makeCounter: start => makeCounter(start),
    makeDurable: n => makeDurable(n),
    async useRemoteCounter(counter, by) {
      return E(counter).increment(by);
    },
  });
}
