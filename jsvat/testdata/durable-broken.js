// An upgrade of durable-v1.js that forgets to re-define its durable kind:
// liveslots refuses to start it, and the vat keeps its old code.
import { Far } from '@endo/far';

export function buildRootObject() {
  return Far('durable', { version: () => 'broken' });
}
