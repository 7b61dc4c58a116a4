// A worker that breaks the vat protocol on purpose, in the way its first
// argument names, at its first deliver (or, for the "idle" modes, right
// after initVat; "idle-logs" breaks nothing, it logs between deliveries). It speaks just enough of the protocol to get there. The
// kernel must fail the delivery, kill the worker and carry on.
//
//	node hostile-worker.mjs MODE --max-frame N ...
import fs from 'node:fs';

const mode = process.argv[2];
const maxFrame = Number(process.argv[process.argv.indexOf('--max-frame') + 1]);
const out = msg => fs.writeSync(4, `${JSON.stringify(msg)}\n`);
const raw = text => fs.writeSync(4, text);
const ok = id => out({ jsonrpc: '2.0', id, result: [[[], []], null] });
const syscall = params => out({ jsonrpc: '2.0', method: 'syscall', params });
const resolveP1 = ['resolve', [['p-1', false, { body: '#"hi"', slots: [] }]]];

const onDeliver = {
  // Not JSON at all.
  garbage: () => raw('this is not json\n'),
  // One frame longer than the limit (never ending in time).
  oversize: () => raw('x'.repeat(maxFrame + 10)),
  // A syscall (resolving the message's result), then death mid-delivery.
  exit: (_id, params) => {
    const result = (params[2] && params[2].result) || 'p-1';
    syscall(['resolve', [[result, false, { body: '#"hi"', slots: [] }]]]);
    process.exit(7);
  },
  // A syscall whose target is a number.
  badsyscall: () => syscall(['send', 42, { methargs: { body: '#[]', slots: [] } }]),
  // A resolution with a null body (JSON decoders would make it "").
  nullbody: () => syscall(['resolve', [['p-1', false, { body: null, slots: [] }]]]),
  // The vatstore written through syscalls rather than the checkpoint.
  vatstore: () => syscall(['vatstoreSet', 'k', 'v']),
  // An answer to a request the kernel did not make.
  wrongid: id => ok(`${id}0`),
  // A request of its own.
  request: () => out({ jsonrpc: '2.0', id: 'w1', method: 'syscall', params: resolveP1 }),
  // Bytes that are not UTF-8.
  invalidutf8: () => fs.writeSync(4, Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])),
  // A checkpoint whose set has no value.
  badcheckpoint: id => out({ jsonrpc: '2.0', id, result: [[[['k']], []], null] }),
  // A checkpoint naming a key as both set and deleted.
  dupcheckpoint: id => out({ jsonrpc: '2.0', id, result: [[[['k', 'v']], ['k']], null] }),
  // Silence: the kernel's deadline must end it.
  hang: () => {},
};

let buf = '';
fs.createReadStream('', { fd: 3 }).on('data', chunk => {
  buf += chunk.toString('utf8');
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const msg = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    if (msg.method === 'initVat') {
      ok(msg.id);
      if (mode === 'idle-syscall') {
        syscall(resolveP1);
      }
      if (mode === 'idle-exit') {
        process.exit(9);
      }
      if (mode === 'idle-logs') {
        // Not hostile: log lines are allowed at any time, between
        // deliveries too.
        for (let i = 1; i <= 3; i += 1) {
          out({ jsonrpc: '2.0', method: 'notify', params: ['logger', JSON.stringify({ level: 'warn', tags: ['worker'], message: `idle line ${i}` })] });
        }
      }
    } else if (msg.method === 'ping') {
      out({ jsonrpc: '2.0', id: msg.id, result: 'pong' });
    } else if (msg.method === 'deliver') {
      (onDeliver[mode] || (id => ok(id)))(msg.id, msg.params);
    }
  }
});
