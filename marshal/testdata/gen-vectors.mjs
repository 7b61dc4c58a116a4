// Generates the marshal test vectors from the real @endo/marshal, so that
// the Go codec is checked against the JavaScript one byte for byte.
//
//   cd marshal/testdata && npm ci && node gen-vectors.mjs
//
// Output: errors.json (kernel error and string bodies).
import '@endo/init';
import { makeMarshal } from '@endo/marshal';
import { writeFileSync } from 'node:fs';

const m = makeMarshal(undefined, undefined, {
  serializeBodyFormat: 'smallcaps',
  errorTagging: 'off',
});

const messages = [
  '[KERNEL:OBJECT_DELETED] Target object has no owner; it may have been deleted',
  '[KERNEL:VAT_FATAL:ILLEGAL_SYSCALL] Syscall translation error: prepare to die',
  '',
  '#hash',
  '!bang',
  '$dollar',
  '-dash',
  '.dot',
  'quote " and backslash \\',
  'tab\tnewline\ncr\rbell\u0007nul\u0000',
  'unicode: héllo wörld ✓ 🎉',
  '<html> & "json"',
  'line sep \u2028 para sep \u2029',
];
const names = ['Error', 'TypeError', 'RangeError'];

const errors = [];
for (const [i, message] of messages.entries()) {
  const name = names[i % names.length];
  const Ctor = globalThis[name];
  const { body, slots } = m.toCapData(harden(new Ctor(message)));
  errors.push({ name, message, body, slots });
}
const strings = messages.map(s => {
  const { body, slots } = m.toCapData(s);
  return { value: s, body, slots };
});

writeFileSync(
  new URL('./errors.json', import.meta.url),
  `${JSON.stringify({ generator: '@endo/marshal 1.10.0', errors, strings }, null, 1)}\n`,
);
