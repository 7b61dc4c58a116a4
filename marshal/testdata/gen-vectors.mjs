// Generates the marshal test vectors from the real @endo/marshal, so that
// the Go codec is checked against the JavaScript one byte for byte.
//
//   cd marshal/testdata && npm ci && node gen-vectors.mjs
//
// Output:
//   vectors.json  values (as typed descriptors), their smallcaps bodies and slots
//   errors.json   kernel error and string bodies
import '@endo/init';
import { makeMarshal } from '@endo/marshal';
import { Far, makeTagged, passableSymbolForName, nameForPassableSymbol, passStyleOf, getTag } from '@endo/pass-style';
import { writeFileSync } from 'node:fs';

// --- values passed by reference: each knows the slot it marshals to ---
const slotOf = new Map();
const far = (iface, slot) => {
  const r = Far(iface, {});
  slotOf.set(r, slot);
  return r;
};
const promise = slot => {
  const p = harden(new Promise(() => {}));
  slotOf.set(p, slot);
  return p;
};
const m = makeMarshal(
  v => {
    if (!slotOf.has(v)) throw Error('no slot for value');
    return slotOf.get(v);
  },
  undefined,
  { serializeBodyFormat: 'smallcaps', errorTagging: 'off' },
);

// --- descriptors: a typed form of each value the Go test can rebuild ---
const describe = v => {
  const style = passStyleOf(v);
  switch (style) {
    case 'null': return { t: 'null' };
    case 'undefined': return { t: 'undefined' };
    case 'boolean': return { t: 'bool', v };
    case 'number':
      if (Number.isNaN(v)) return { t: 'number', v: 'NaN' };
      if (v === Infinity) return { t: 'number', v: 'Infinity' };
      if (v === -Infinity) return { t: 'number', v: '-Infinity' };
      if (Object.is(v, -0)) return { t: 'number', v: '-0' };
      return { t: 'number', v: String(v) };
    case 'bigint': return { t: 'bigint', v: String(v) };
    case 'string': return { t: 'string', v };
    case 'symbol': return { t: 'symbol', v: nameForPassableSymbol(v) };
    case 'copyArray': return { t: 'array', v: v.map(describe) };
    case 'copyRecord': return { t: 'record', v: Object.entries(v).map(([k, x]) => [k, describe(x)]) };
    case 'tagged': return { t: 'tagged', tag: getTag(v), payload: describe(v.payload) };
    case 'error': return { t: 'error', name: v.name, message: v.message };
    case 'remotable': return { t: 'remotable', slot: slotOf.get(v), iface: `Alleged: ${v[Symbol.toStringTag].replace(/^Alleged: /, '')}` };
    case 'promise': return { t: 'promise', slot: slotOf.get(v) };
    default: throw Error(`cannot describe ${style}`);
  }
};

const cases = [];
const add = (name, v) => {
  const value = harden(v);
  const { body, slots } = m.toCapData(value);
  cases.push({ name, value: describe(value), body, slots });
};

// primitives
add('null', null);
add('true', true);
add('false', false);
add('undefined', undefined);
for (const n of [0, -0, 1, -1, 42, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 53 + 2, 1e21, 1e20,
  123456789012345680000, 1e-7, 1e-6, 0.000001234, 123.456, 0.1, -0.5, 5e-324, 1.7976931348623157e308,
  2 ** -1074, 1 / 3, -2.5e-8, 6.02214076e23, 299792458, 3.14159, NaN, Infinity, -Infinity]) {
  add(`number ${Object.is(n, -0) ? '-0' : String(n)}`, n);
}
for (const n of [0n, 1n, -1n, 42n, 2n ** 64n, -(2n ** 100n), 10n ** 30n]) {
  add(`bigint ${n}`, n);
}
const strings = ['', 'hello', 'Hello, world!', '.', '/', '0', 'null', 'true',
  '!', '"', '#', '$', '%', '&', "'", '(', ')', '*', '+', ',', '-',
  '!bang', '"quote', '#undefined', '#NaN', '$0', '$0.Alleged: x', '%sym', '&0', "'single", '(paren',
  ')paren', '*star', '+1', ',comma', '-1', 'a"b', 'back\\slash', 'tab\there', 'new\nline',
  'nul\u0000byte', 'bell\u0007', 'del\u007f', 'héllo wörld', '日本語', '😀 emoji', 'surrogate \u{1F600}\u{10FFFF}',
  'line sep \u2028 para \u2029', '<script>&amp;</script>', 'x'.repeat(300)];
strings.forEach((s, i) => add(`string ${i}`, s));

// arrays
add('empty array', []);
add('array of numbers', [1, 2, 3]);
add('array mixed', [null, true, 'x', 1.5, 2n, undefined]);
add('nested arrays', [[[]], [[1], [2, [3]]]]);
add('array of special strings', ['!', '#', '$', '-']);

// records
add('empty record', {});
add('record', { a: 1 });
add('record unsorted keys', { b: 2, a: 1, c: 3 });
add('record special keys', { '!x': 1, '#y': 2, $z: 3, '-w': 4, plain: 5 });
add('record unicode keys', { '\u{1F600}': 1, '\uFFFF': 2, b: 3, 'é': 4, '': 5, Z: 6, a: 7 });
add('record numeric-looking keys', { 10: 'ten', 9: 'nine', '1.5': 'x', '-1': 'y' });
add('record index-like keys', { 4294967295: 1, 4294967294: 2, '01': 3, 0: 4, '-0': 5, a: 6, 2: 7, 1e3: 8 });
add('record with undefined', { u: undefined, n: null });
add('nested records', { outer: { inner: { deepest: [1, { x: 'y' }] } }, list: [{ a: 1 }, { b: 2 }] });
add('record of everything', { s: 'str', n: 1, b: true, big: -5n, nan: NaN, arr: [], rec: {} });
let deep = 'bottom';
for (let i = 0; i < 30; i += 1) deep = i % 2 ? [deep] : { d: deep };
add('30 levels deep', deep);

// errors
add('error', Error('boom'));
add('type error', TypeError('bad argument'));
add('range error', RangeError('out of range'));
add('error with special message', Error('#not a constant'));
add('error empty message', Error(''));
add('error in a record', { err: Error('inner'), ok: false });
add('errors in an array', [Error('a'), TypeError('b')]);
add('kernel error', Error('[KERNEL:OBJECT_DELETED] Target object has no owner; it may have been deleted'));

// tagged
add('tagged copySet', makeTagged('copySet', ['a', 'b']));
add('tagged copyBag', makeTagged('copyBag', [['a', 2n], ['b', 1n]]));
add('tagged with record payload', makeTagged('copyMap', { keys: ['k'], values: [1] }));
add('tagged special tag', makeTagged('#odd', null));
add('tagged nested', makeTagged('outer', makeTagged('inner', [1])));

// references
const alice = far('alice', 'o+1');
const bob = far('bob', 'o-7');
const counter = far('counter', 'o+d10/3');
const p1 = promise('p+5');
const p2 = promise('p-2');
add('remotable', alice);
add('remotable with durable vref', counter);
add('two remotables', [alice, bob]);
add('same remotable twice', [alice, alice]);
add('same remotable in a record', { first: bob, second: bob, third: alice });
add('promise', p1);
add('two promises', [p1, p2]);
add('same promise twice', { x: p1, y: p1 });
add('promise and remotable', [p2, bob, p2, bob]);
add('method call', ['deposit', [alice, 10n, { memo: 'rent' }]]);
add('bootstrap', ['bootstrap', [{ alice, bob }, {}]]);
add('remotable in tagged', makeTagged('copySet', [alice, bob]));
add('remotable with odd iface', far('odd "iface" $1', 'o+99'));

// symbols
add('symbol asyncIterator', passableSymbolForName('@@asyncIterator'));
add('registered symbol', Symbol.for('foo'));

writeFileSync(
  new URL('./vectors.json', import.meta.url),
  `${JSON.stringify({ generator: '@endo/marshal 1.10.0 (smallcaps, errorTagging off)', count: cases.length, cases }, null, 1)}\n`,
);

// --- errors.json: kernel error and plain string bodies ---
const messages = [
  '[KERNEL:OBJECT_DELETED] Target object has no owner; it may have been deleted',
  '[KERNEL:VAT_FATAL:ILLEGAL_SYSCALL] Syscall translation error: prepare to die',
  '', '#hash', '!bang', '$dollar', '-dash', '.dot', 'quote " and backslash \\',
  'tab\tnewline\ncr\rbell\u0007nul\u0000', 'unicode: héllo wörld ✓ 🎉', '<html> & "json"',
  'line sep \u2028 para sep \u2029',
];
const names = ['Error', 'TypeError', 'RangeError'];
const errors = messages.map((message, i) => {
  const name = names[i % names.length];
  const { body, slots } = m.toCapData(harden(new globalThis[name](message)));
  return { name, message, body, slots };
});
const strs = messages.map(s => ({ value: s, ...m.toCapData(s) }));
writeFileSync(
  new URL('./errors.json', import.meta.url),
  `${JSON.stringify({ generator: '@endo/marshal 1.10.0', errors, strings: strs }, null, 1)}\n`,
);
console.log(`${cases.length} vectors`);
