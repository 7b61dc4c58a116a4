// Three vats that introduce themselves at bootstrap and keep what they
// learn in baggage, so that any of them, restarted (alone, or with the
// kernel), can greet the others again from its new incarnation: the
// bootstrap vat keeps the others' roots, the others keep the bootstrap
// vat's. Each counts its incarnations in baggage.
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}, baggage) {
  const name = parameters.name ?? 'anonymous';
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);

  let starts = 1;
  if (baggage.has('name')) {
    tlog(`saved name is ${baggage.get('name')}`);
    starts = baggage.get('startCount') + 1;
    baggage.set('startCount', starts);
  } else {
    baggage.init('name', name);
    tlog('saving name');
    baggage.init('startCount', starts);
  }
  tlog(`start count: ${starts}`);

  // Greets each of peers (a record of presences) and logs the answers.
  const greetAll = async (peers, greeting) => {
    const names = Object.keys(peers).sort();
    const answers = await Promise.all(names.map(n => E(peers[n]).greet(greeting)));
    names.forEach((n, i) => {
      const who = n.charAt(0).toUpperCase() + n.slice(1);
      tlog(`${who} answers greeting: '${answers[i]}'`);
    });
    return peers[names[0]];
  };

  const root = Far('root', {
    async bootstrap(vats) {
      tlog('bootstrap()');
      // The record arrives hardened and names this vat's own root too,
      // which baggage cannot keep (it is not durable, and needs no
      // keeping): copy the others.
      const peers = {};
      for (const [n, v] of Object.entries(vats)) {
        if (v !== root) {
          peers[n] = v;
        }
      }
      baggage.init('vats', harden(peers));
      const intros = Object.values(peers).map(p => E(p).intro(root));
      const first = await greetAll(peers, `hello from ${name}`);
      await Promise.all(intros);
      tlog('end bootstrap');
      await E(first).loopback();
      return `bootstrap ${name}`;
    },

    intro(bootVat) {
      tlog('intro()');
      baggage.init('bootVat', bootVat);
    },

    greet(greeting) {
      tlog(`greet('${greeting}')`);
      return `${name} returns your greeting '${greeting}'`;
    },

    async resume() {
      tlog('resume()');
      if (baggage.has('vats')) {
        tlog('resumed vat is bootstrap');
        const first = await greetAll(baggage.get('vats'), `hello again from ${name}`);
        await E(first).loopback();
      }
      if (baggage.has('bootVat')) {
        tlog('resumed vat is not bootstrap');
        const bootVat = baggage.get('bootVat');
        const answer = await E(bootVat).greet(`hello boot vat from ${name}`);
        tlog(`boot vat returns greeting with '${answer}'`);
        await E(bootVat).loopback();
      }
      tlog('end resume');
      return `resume ${name}`;
    },

    loopback() {},
  });
  return root;
}
