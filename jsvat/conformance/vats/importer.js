// Holds objects others made: strongly (a map), and weakly (a WeakMap,
// which keeps an import recognizable, not reachable), so a test can make
// it let go in two steps: drop (makeWeak), then retire (forgetImport).
// What it lets go of, liveslots reports at the next bring-out-your-dead.
import { E, Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}) {
  const name = parameters.name ?? 'anonymous';
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);

  const held = new Map(); // id -> import
  let known = new WeakMap(); // import -> id

  return Far('root', {
    bootstrap() {
      console.log(`${name}: bootstrap`);
      return `bootstrap-${name}`;
    },

    storeImport(obj, id = 'default') {
      tlog(`Storing import ${id}`);
      held.set(id, obj);
      known.set(obj, id);
      return 'stored';
    },

    useImport(id = 'default') {
      tlog(`useImport ${id}`);
      const obj = held.get(id);
      if (obj === undefined) {
        throw Error(`Object not found: ${id}`);
      }
      tlog(`Using import ${id}`);
      return E(obj).getValue();
    },

    makeWeak(id) {
      if (!held.has(id)) {
        tlog(`Cannot make weak reference to nonexistent object: ${id}`);
        return false;
      }
      tlog(`Making weak reference to ${id} (dropping strong ref)`);
      held.delete(id);
      return true;
    },

    forgetImport() {
      known = new WeakMap();
      return true;
    },

    listImportedObjects: () => [...held.keys()],

    noop: () => 'noop',
  });
}
