// A broken next version: it forgets to define the durable kind that v1's
// objects belong to, which liveslots refuses at the end of startVat.
import { Far } from '@endo/far';

export function buildRootObject() {
  console.log('broken version started');
  return Far('root', { version: () => 'broken' });
}
