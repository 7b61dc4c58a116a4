// The kernel's VatWorkerService for Node worker threads, as the reference's
// NodejsVatWorkerService (packages/nodejs/src/kernel/VatWorkerService.ts at
// @metamask/ocap-kernel@0.5.0), plus a count of the `deliver` requests the
// kernel writes to its vats: one per crank that reaches a vat.
import { makePromiseKit } from '@endo/promise-kit';
import { isJsonRpcMessage } from '@metamask/kernel-utils';
import { NodeWorkerDuplexStream } from '@metamask/streams';
import { Worker } from 'node:worker_threads';

const WORKER_FILE = new URL('./vat-worker.mjs', import.meta.url);

export class CountingVatWorkerService {
  workers = new Map();

  /** Deliveries written to vats so far, by delivery kind ('message', 'notify', ...). */
  deliveries = new Map();

  async launch(vatId) {
    const { promise, resolve, reject } = makePromiseKit();
    const worker = new Worker(WORKER_FILE, { env: { NODE_VAT_ID: vatId } });
    worker.once('error', reject);
    worker.once('online', () => {
      const stream = new NodeWorkerDuplexStream(worker, isJsonRpcMessage);
      // The kernel's VatHandle uses write, drain and end; count what it
      // writes and pass everything through unchanged.
      const counted = {
        write: async (m) => {
          this.#count(m);
          return stream.write(m);
        },
        next: async () => stream.next(),
        drain: async (h) => stream.drain(h),
        pipe: async (s) => stream.pipe(s),
        return: async () => stream.return(),
        throw: async (e) => stream.throw(e),
        end: async (e) => stream.end(e),
        [Symbol.asyncIterator]() {
          return counted;
        },
      };
      this.workers.set(vatId, { worker, stream });
      stream.synchronize().then(() => resolve(counted), reject);
    });
    return promise;
  }

  #count(message) {
    if (message && message.method === 'deliver') {
      const kind = message.params?.[0] ?? '?';
      this.deliveries.set(kind, (this.deliveries.get(kind) ?? 0) + 1);
    }
  }

  totalDeliveries() {
    let n = 0;
    for (const v of this.deliveries.values()) n += v;
    return n;
  }

  async terminate(vatId) {
    const entry = this.workers.get(vatId);
    if (!entry) throw new Error(`no worker for ${vatId}`);
    await entry.stream.return();
    await entry.worker.terminate();
    this.workers.delete(vatId);
  }

  async terminateAll() {
    for (const vatId of [...this.workers.keys()]) {
      await this.terminate(vatId);
    }
  }
}
