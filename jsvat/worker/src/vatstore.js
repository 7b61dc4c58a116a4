// The vat's vatstore, kept in the worker as the reference does: liveslots
// reads and writes it synchronously, many times a delivery, so a round
// trip to the kernel for each would cost more than the delivery itself.
// The kernel hands the whole store over at initVat; each delivery's result
// carries its checkpoint (the sets and deletes since the last one), which
// the kernel applies in the delivery's crank. A delivery that fails ends
// the worker, so the local copy never outlives a rollback.

/**
 * Index of the first key in sorted that is > key (binary search).
 *
 * @param {string[]} sorted
 * @param {string} key
 */
const upperBound = (sorted, key) => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
};

/**
 * Index of key in sorted, or -1.
 *
 * @param {string[]} sorted
 * @param {string} key
 */
const indexOf = (sorted, key) => {
  const i = upperBound(sorted, key) - 1;
  return i >= 0 && sorted[i] === key ? i : -1;
};

/**
 * @param {Array<[string, string]>} entries the vat's state at initVat
 */
export const makeVatStore = entries => {
  /** @type {Map<string, string>} */
  const state = new Map(entries);
  // Keys in JavaScript's string order (UTF-16 code units), kept sorted as
  // keys come and go so getNextKey is a binary search.
  const sorted = [...state.keys()].sort();
  /** @type {Map<string, string>} */
  const sets = new Map();
  /** @type {Set<string>} */
  const deletes = new Set();

  const insistKey = key => {
    if (typeof key !== 'string') {
      throw TypeError(`vatstore key must be a string, got ${typeof key}`);
    }
  };

  return harden({
    get(key) {
      insistKey(key);
      return state.get(key);
    },
    getNextKey(priorKey) {
      insistKey(priorKey);
      const i = upperBound(sorted, priorKey);
      return i < sorted.length ? sorted[i] : undefined;
    },
    set(key, value) {
      insistKey(key);
      if (typeof value !== 'string') {
        throw TypeError(`vatstore value must be a string, got ${typeof value}`);
      }
      if (!state.has(key)) {
        sorted.splice(upperBound(sorted, key), 0, key);
      }
      state.set(key, value);
      sets.set(key, value);
      deletes.delete(key);
    },
    delete(key) {
      insistKey(key);
      if (state.has(key)) {
        sorted.splice(indexOf(sorted, key), 1);
        state.delete(key);
      }
      // A delete the kernel's copy may not need is still reported: the
      // kernel's store, not this one, is the truth after a restart.
      sets.delete(key);
      deletes.add(key);
    },
    /**
     * The changes since the last checkpoint, as [sets, deletes]; a key is
     * in at most one of them.
     *
     * @returns {[Array<[string, string]>, string[]]}
     */
    checkpoint() {
      const result = [[...sets.entries()], [...deletes]];
      sets.clear();
      deletes.clear();
      return result;
    },
    size: () => state.size,
  });
};
