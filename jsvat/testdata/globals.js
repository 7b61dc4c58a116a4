// Reports which globals it can see: the ones its config asked for, and
// none of the host's.
import { Far } from '@endo/far';

export function buildRootObject() {
  return Far('globals', {
    bootstrap() {},
    probe() {
      const seen = {};
      for (const name of ['Date', 'URL', 'atob', 'setTimeout', 'TextDecoder', 'process', 'require', 'fetch']) {
        seen[name] = typeof globalThis[name];
      }
      // The endowed Date has a clock (a Compartment's own has none).
      seen.now = Date.now() > 0;
      return harden(seen);
    },
  });
}
