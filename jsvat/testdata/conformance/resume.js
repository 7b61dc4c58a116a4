// The reference's resume scenario: three vats that keep their name, a
// start count and each other in baggage, so that after a restart (of a
// vat, or of the kernel) they find one another and talk again.
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters, baggage) {
  const tlog = vatPowers.logger.subLogger({ tags: ['test'] }).log;
  let name;
  if (baggage.has('name')) {
    name = baggage.get('name');
    tlog(`${name}: saved name is ${name}`);
  } else {
    name = parameters.name;
    tlog(`${name}: saving name`);
    baggage.init('name', name);
  }
  const log = message => tlog(`${name}: ${message}`);
  const count = baggage.has('count') ? baggage.get('count') + 1 : 1;
  if (baggage.has('count')) {
    baggage.set('count', count);
  } else {
    baggage.init('count', count);
  }
  log(`start count: ${count}`);

  const greetAll = async greeting => {
    const answers = await Promise.all([E(baggage.get('bob')).greet(greeting), E(baggage.get('carol')).greet(greeting)]);
    log(`Bob answers greeting: '${answers[0]}'`);
    log(`Carol answers greeting: '${answers[1]}'`);
  };

  return Far('root', {
    async bootstrap(vats) {
      log('bootstrap()');
      baggage.init('isBootstrap', true);
      baggage.init('bob', vats.bob);
      baggage.init('carol', vats.carol);
      await Promise.all([E(vats.bob).intro(vats.alice), E(vats.carol).intro(vats.alice)]);
      await greetAll(`hello from ${name}`);
      log('end bootstrap');
      return `bootstrap ${name}`;
    },
    intro(bootVat) {
      log('intro()');
      baggage.init('isBootstrap', false);
      baggage.init('bootVat', bootVat);
    },
    greet(greeting) {
      log(`greet('${greeting}')`);
      return `${name} returns your greeting '${greeting}'`;
    },
    async resume() {
      log('resume()');
      if (baggage.get('isBootstrap')) {
        log('resumed vat is bootstrap');
        await greetAll(`hello again from ${name}`);
      } else {
        log('resumed vat is not bootstrap');
        const answer = await E(baggage.get('bootVat')).greet(`hello boot vat from ${name}`);
        log(`boot vat returns greeting with '${answer}'`);
      }
      log('end resume');
      return `resume ${name}`;
    },
  });
}
