// The vat worker: the body of one Node worker thread, as the reference's
// Node runtime has it (packages/nodejs/src/vat/vat-worker.ts at
// @metamask/ocap-kernel@0.5.0; that runtime is not published to npm).
// SES lockdown, then a VatSupervisor (liveslots over the bundle) talking to
// the kernel over the worker's parentPort.
import '@metamask/kernel-shims/endoify';

import { isJsonRpcMessage } from '@metamask/kernel-utils';
import { Logger, makeStreamTransport, splitLoggerStream } from '@metamask/logger';
import { VatSupervisor } from '@metamask/ocap-kernel';
import { NodeWorkerDuplexStream } from '@metamask/streams';
import fs from 'node:fs/promises';
import url from 'node:url';
import { parentPort } from 'node:worker_threads';

// Node's fetch does not read file: URLs, and bundleSpecs here are file: URLs.
async function fetchBlob(blobURL) {
  const parsed = new URL(blobURL);
  if (parsed.protocol === 'file:') {
    return new Response(await fs.readFile(url.fileURLToPath(parsed)));
  }
  return fetch(blobURL);
}

async function main() {
  const vatId = process.env.NODE_VAT_ID;
  if (!vatId) {
    throw new Error('no vatId set for env variable NODE_VAT_ID');
  }
  if (!parentPort) {
    throw new Error('vat-worker.mjs must run in a Node worker thread');
  }
  const stream = new NodeWorkerDuplexStream(parentPort, isJsonRpcMessage);
  const { kernelStream, loggerStream } = splitLoggerStream(stream);
  await stream.synchronize();
  const logger = new Logger({
    tags: ['nodejs-vat-worker', vatId],
    transports: [makeStreamTransport(loggerStream)],
  });
  // eslint-disable-next-line no-new
  new VatSupervisor({ id: vatId, kernelStream, logger, fetchBlob, vatPowers: { logger } });
}

main().catch((reason) => console.error('vat worker main failed', reason));
