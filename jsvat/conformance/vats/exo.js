// Exos and scalar stores: exo classes with interface guards (defineExoClass),
// a two-facet exo class kit (defineExoClassKit), a lone exo (makeExo), heap
// map and set stores (@agoric/store), and a counter kept in baggage. The
// bootstrap runs them all once; the other methods are the host's to call.
import { makeScalarMapStore, makeScalarSetStore } from '@agoric/store';
import { defineExoClass, defineExoClassKit, makeExo } from '@endo/exo';
import { M } from '@endo/patterns';

const CounterI = M.interface('Counter', {
  getValue: M.call().returns(M.number()),
  increment: M.call(M.number()).returns(M.number()),
  decrement: M.call(M.number()).returns(M.number()),
});
const PersonI = M.interface('Person', {
  getName: M.call().returns(M.string()),
  getAge: M.call().returns(M.number()),
  birthday: M.call().returns(M.number()),
  addFriend: M.call(M.any()).returns(M.number()),
  getFriends: M.call().returns(M.arrayOf(M.any())),
});
const TemperatureI = {
  celsius: M.interface('Celsius', {
    getCelsius: M.call().returns(M.number()),
    setCelsius: M.call(M.number()).returns(M.number()),
  }),
  fahrenheit: M.interface('Fahrenheit', {
    getFahrenheit: M.call().returns(M.number()),
    setFahrenheit: M.call(M.number()).returns(M.number()),
  }),
};
// The root takes any passable arguments, as ocap-kernel's makeDefaultExo.
const RootI = M.interface('root', {}, { defaultGuards: 'passable' });

const toF = c => (c * 9) / 5 + 32;
const toC = f => ((f - 32) * 5) / 9;

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const name = parameters.name ?? 'anonymous';
  const { log: tlog } = vatPowers.logger.subLogger({ tags: ['test', name] });
  console.log(`${name}: buildRootObject`);

  const people = makeScalarMapStore('testMap');
  const seen = makeScalarSetStore('testSet');

  const makeCounter = defineExoClass('Counter', CounterI, (value = 0) => ({ value }), {
    getValue() {
      return this.state.value;
    },
    increment(by = 1) {
      this.state.value += by;
      return this.state.value;
    },
    decrement(by = 1) {
      this.state.value -= by;
      return this.state.value;
    },
  });

  const makePerson = defineExoClass('Person', PersonI, (who, age) => ({ who, age, friends: [] }), {
    getName() {
      return this.state.who;
    },
    getAge() {
      return this.state.age;
    },
    birthday() {
      this.state.age += 1;
      return this.state.age;
    },
    addFriend(friend) {
      this.state.friends = [...this.state.friends, friend];
      return this.state.friends.length;
    },
    getFriends() {
      return [...this.state.friends];
    },
  });

  // One state, two facets: each sees the temperature in its own unit.
  const makeTemperature = defineExoClassKit('Temperature', TemperatureI, (celsius = 0) => ({ celsius }), {
    celsius: {
      getCelsius() {
        return this.state.celsius;
      },
      setCelsius(c) {
        this.state.celsius = c;
        return c;
      },
    },
    fahrenheit: {
      getFahrenheit() {
        return toF(this.state.celsius);
      },
      setFahrenheit(f) {
        this.state.celsius = toC(f);
        return f;
      },
    },
  });

  if (baggage.has('initialized')) {
    tlog('state already initialized');
  } else {
    baggage.init('initialized', true);
    baggage.init('counterValue', 0);
    tlog('initializing state');
  }
  let kept = baggage.get('counterValue');
  tlog(`counter value from baggage: ${kept}`);

  // A lone exo over the baggage counter's value.
  const simple = makeExo('SimpleCounter', CounterI, {
    getValue: () => kept,
    increment(by = 1) {
      kept += by;
      return kept;
    },
    decrement(by = 1) {
      kept -= by;
      return kept;
    },
  });

  return makeExo('root', RootI, {
    bootstrap() {
      tlog('bootstrap()');

      const counter = makeCounter(10);
      tlog(`Created counter with initial value: ${counter.getValue()}`);
      tlog(`Incremented counter by 5 to: ${counter.increment(5)}`);
      try {
        // M.number() admits negative numbers: this is expected to work,
        // and the line below says so in the reference's words.
        counter.increment(-3);
        tlog('ERROR: Increment with negative value should have failed');
      } catch (e) {
        tlog(`Successfully caught error on negative increment: ${e.message}`);
      }

      const alice = makePerson('Alice', 30);
      const bob = makePerson('Bob', 25);
      alice.addFriend(bob);
      tlog(`${alice.getName()} has ${alice.getFriends().length} friends`);

      people.init('alice', alice);
      people.init('bob', bob);
      tlog(`Added ${people.getSize()} entries to map store`);
      seen.add(alice);
      seen.add(bob);
      tlog(`Added ${seen.getSize()} entries to set store`);
      tlog(`Retrieved ${people.get('alice').getName()} from map store`);

      const { celsius, fahrenheit } = makeTemperature(25);
      tlog(`Temperature at 25°C = ${fahrenheit.getFahrenheit()}°F`);
      fahrenheit.setFahrenheit(68);
      tlog(`After setting to 68°F, celsius is ${celsius.getCelsius()}°C`);

      tlog(`SimpleCounter initial value: ${simple.getValue()}`);
      tlog(`SimpleCounter after +7: ${simple.increment(7)}`);
      baggage.set('counterValue', simple.getValue());
      tlog(`Updated baggage counter to: ${baggage.get('counterValue')}`);
      return 'exo-test-complete';
    },

    createCounter(value = 0) {
      const counter = makeCounter(value);
      tlog(`Created new counter with value: ${value}`);
      return counter;
    },

    createPerson(who, age) {
      const person = makePerson(who, age);
      tlog(`Created person ${who}, age ${age}`);
      return person;
    },

    createTemperature(celsius = 0) {
      const kit = makeTemperature(celsius);
      tlog(`Created temperature converter starting at ${celsius}°C`);
      return kit;
    },

    createOrUpdateInMap(key, value) {
      if (people.has(key)) {
        people.set(key, value);
        tlog(`Updated ${key} in map`);
      } else {
        people.init(key, value);
        tlog(`Added ${key} to map, size now: ${people.getSize()}`);
      }
      return people.getSize();
    },

    getFromMap(key) {
      if (!people.has(key)) {
        tlog(`${key} not found in map`);
        return null;
      }
      tlog(`Found ${key} in map`);
      return people.get(key);
    },

    testExoClass() {
      const counter = makeCounter(3);
      tlog(`Counter: 3 + 5 = ${counter.increment(5)}`);
      tlog(`Counter: 8 - 2 = ${counter.decrement(2)}`);
      try {
        counter.increment('foo');
        tlog('ERROR: Increment with string should have failed');
      } catch (e) {
        tlog(`Successfully caught type error: ${e.message}`);
      }
      return 'exoClass-tests-complete';
    },

    testExoClassKit() {
      const { celsius, fahrenheit } = makeTemperature(20);
      tlog(`20°C = ${fahrenheit.getFahrenheit()}°F`);
      fahrenheit.setFahrenheit(32);
      tlog(`32°F = ${celsius.getCelsius()}°C`);
      try {
        celsius.getFahrenheit();
        tlog('ERROR: Cross-facet access should have failed');
      } catch (e) {
        tlog(`Successfully caught cross-facet error: ${e.message}`);
      }
      return 'exoClassKit-tests-complete';
    },

    testScalarStore() {
      const charlie = makePerson('Charlie', 40);
      people.init('charlie', charlie);
      tlog(`Map store size: ${people.getSize()}`);
      tlog(`Map store keys: ${[...people.keys()].join(', ')}`);
      tlog(`Map has 'charlie': ${people.has('charlie')}`);
      seen.add(charlie);
      tlog(`Set store size: ${seen.getSize()}`);
      tlog(`Set has Charlie: ${seen.has(charlie)}`);
      return 'scalar-store-tests-complete';
    },
  });
}
