// A vat that does nothing after its bootstrap: used for launch time and
// the memory of an idle vat.
import { Far } from '@endo/far';

export function buildRootObject() {
  return Far('root', {
    bootstrap() {
      return 'ready';
    },
  });
}
