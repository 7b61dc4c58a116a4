// Echoes what it is sent, and makes values of every pass style, so that
// the kernel's smallcaps codec (package marshal) and liveslots' can be
// checked against each other both ways.
import { Far } from '@endo/far';

export function buildRootObject() {
  return Far('values', {
    bootstrap() {},
    echo: x => x,
    make: () =>
      harden({
        null: null,
        t: true,
        n: -1.5,
        nan: NaN,
        inf: -Infinity,
        big: 2n ** 70n,
        negbig: -(2n ** 70n),
        undef: undefined,
        bang: '!bang',
        hash: '#hash',
        list: [1, 'two', [3]],
        rec: { b: 1, a: 2 },
        sym: Symbol.for('registered'),
      }),
    throwError: () => {
      throw TypeError('thrown from JavaScript');
    },
    rejectWith: x => Promise.reject(x),
    typeOf: x => (x instanceof Error ? `Error ${x.name}: ${x.message}` : typeof x),
  });
}
