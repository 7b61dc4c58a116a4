// Makes objects for others and keeps them in a map until told to forget
// them (garbage collection and revocation).
import { Far } from '@endo/far';

export function buildRootObject(vatPowers, parameters = {}) {
  const name = parameters.name ?? 'anonymous';
  const { log } = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => log(`${name}: ${message}`);

  const made = new Map(); // id -> object

  return Far('root', {
    bootstrap() {
      console.log(`${name}: bootstrap`);
      return `bootstrap-${name}`;
    },

    createObject(id) {
      const obj = Far('SharedObject', { getValue: () => id });
      made.set(id, obj);
      tlog(`Created object ${id}`);
      return obj;
    },

    isObjectPresent: id => made.has(id),

    forgetObject(id) {
      if (!made.delete(id)) {
        tlog(`Cannot forget nonexistent object: ${id}`);
        return false;
      }
      tlog(`Forgetting object ${id}`);
      return true;
    },

    noop: () => 'noop',
  });
}
