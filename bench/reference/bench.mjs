// Benchmark of the reference kernel, @metamask/ocap-kernel, on this machine:
// ping-pong between two JS vats, a vat's launch time, and an idle vat's RSS.
//
//   node bench.mjs                 every measurement, RUNS times each
//   node bench.mjs pingpong 1000   one measurement, printed as JSON
//
// Each run is a fresh Node process (a child of the driver), so no run
// inherits another's JIT state, heap or worker threads. The kernel is made
// as the reference's packages/kernel-test/src/utils.ts makeKernel does it at
// @metamask/ocap-kernel@0.5.0: an in-memory SQLite kernel database, a
// NodeWorkerDuplexStream command stream on an unused MessageChannel port, and
// a vat worker service whose vats are Node worker threads.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BUNDLES = `${HERE}bundles/`;
const RUNS = Number(process.env.RUNS ?? 7);
const ROUND_TRIPS = (process.env.ROUND_TRIPS ?? '1000,5000').split(',').map(Number);
const IDLE_VATS = 10;
const LAUNCHES_PER_PROCESS = 5;
// Round trips run before the timed loop, so the timed loop does not pay for
// the first delivery's compilation in the workers.
const WARMUP_ROUND_TRIPS = 10;

const bundleURL = (name) => pathToFileURL(`${BUNDLES}${name}.bundle`).href;

// ---------------------------------------------------------------- the driver

async function bundleVats() {
  // bundle-source's compartment-mapper wants the SES Compartment global
  // (no lockdown is needed in the driver, which only spawns the runs).
  await import('ses');
  const { default: bundleSource } = await import('@endo/bundle-source');
  fs.mkdirSync(BUNDLES, { recursive: true });
  for (const name of ['pingpong-vat', 'idle-vat']) {
    const bundle = await bundleSource(`${HERE}vats/${name}.js`);
    fs.writeFileSync(`${BUNDLES}${name}.bundle`, JSON.stringify(bundle));
  }
}

function runChild(args, env = {}) {
  const out = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), ...args],
    { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...env } },
  );
  const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (out.status !== 0 || !line) {
    throw new Error(
      `child ${args.join(' ')} failed (status ${out.status}):\n${out.stderr}\n${out.stdout.slice(-4000)}`,
    );
  }
  return JSON.parse(line.slice('RESULT '.length));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });
const fmt = (x, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const row = (name, s, digits, unit) =>
  `| ${name} | **${fmt(s.median, digits)}** ${unit} | ${fmt(s.min, digits)} – ${fmt(s.max, digits)} |`;

async function driver() {
  await bundleVats();
  const versions = {};
  for (const p of ['@metamask/ocap-kernel', '@metamask/kernel-store', '@metamask/streams',
    '@agoric/swingset-liveslots', 'ses', '@endo/bundle-source', 'better-sqlite3']) {
    versions[p] = JSON.parse(fs.readFileSync(`${HERE}node_modules/${p}/package.json`, 'utf8')).version;
  }
  // liveslots and the kernel use the ses nested under ocap-kernel, if any.
  const nestedSes = `${HERE}node_modules/@metamask/ocap-kernel/node_modules/ses/package.json`;
  if (fs.existsSync(nestedSes)) {
    versions['ses (under ocap-kernel)'] = JSON.parse(fs.readFileSync(nestedSes, 'utf8')).version;
  }
  const results = { date: new Date().toISOString(), node: process.version, runs: RUNS, versions };
  const lines = [];
  const variants = [
    ['as published', {}],
    ['kernel console.debug off', { KERNEL_DEBUG: 'off' }],
  ];
  for (const n of ROUND_TRIPS) {
    for (const [label, env] of variants) {
      const rs = [];
      for (let i = 0; i < RUNS; i += 1) rs.push(runChild(['pingpong', String(n)], env));
      const r = {
        wallMs: summary(rs.map((x) => x.wallMs)),
        cranksPerSec: summary(rs.map((x) => x.cranksPerSec)),
        roundTripsPerSec: summary(rs.map((x) => x.roundTripsPerSec)),
        deliveries: [...new Set(rs.map((x) => JSON.stringify(x.deliveries)))],
      };
      results[`pingpong ${n}, ${label}`] = r;
      lines.push(row(`ping-pong N=${n} (${label}): wall time`, r.wallMs, 0, 'ms'));
      lines.push(row(`ping-pong N=${n} (${label}): cranks/s`, r.cranksPerSec, 0, ''));
      lines.push(row(`ping-pong N=${n} (${label}): round trips/s`, r.roundTripsPerSec, 0, ''));
      console.error(`pingpong ${n} (${label}): deliveries by kind, all runs: ${r.deliveries.join(' ')}`);
    }
  }
  {
    const rs = [];
    for (let i = 0; i < RUNS; i += 1) rs.push(runChild(['launch', String(LAUNCHES_PER_PROCESS)]));
    const r = {
      firstMs: summary(rs.map((x) => x.launchMs[0])),
      laterMs: summary(rs.map((x) => median(x.launchMs.slice(1)))),
    };
    results.launch = r;
    lines.push(row('launch of a one-vat subcluster, first in the process', r.firstMs, 1, 'ms'));
    lines.push(row(`launch of a one-vat subcluster, later (median of launches 2-${LAUNCHES_PER_PROCESS} per process)`, r.laterMs, 1, 'ms'));
  }
  {
    const rs = [];
    for (let i = 0; i < RUNS; i += 1) rs.push(runChild(['idle', String(IDLE_VATS)]));
    const r = {
      rssPerVatMiB: summary(rs.map((x) => x.rssPerVatMiB)),
      rssBeforeMiB: summary(rs.map((x) => x.rssBeforeMiB)),
      rssAfterMiB: summary(rs.map((x) => x.rssAfterMiB)),
    };
    results.idle = r;
    lines.push(row(`RSS before launching ${IDLE_VATS} idle vats (kernel alone)`, r.rssBeforeMiB, 1, 'MiB'));
    lines.push(row(`RSS after launching ${IDLE_VATS} idle vats`, r.rssAfterMiB, 1, 'MiB'));
    lines.push(row(`RSS per idle vat ((after - before) / ${IDLE_VATS})`, r.rssPerVatMiB, 1, 'MiB'));
  }
  fs.writeFileSync(`${HERE}results.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`${results.date}, Node ${results.node}, ${RUNS} runs each, medians with range (min – max)`);
  console.log(JSON.stringify(versions));
  console.log('\n| measurement | median | range |\n| --- | --- | --- |');
  for (const l of lines) console.log(l);
}

// ---------------------------------------------------------------- one run

async function makeKernel() {
  // The published kernel console.debug()s every kernel promise and object it
  // creates (one line per round trip here). KERNEL_DEBUG=off silences that,
  // to show what it costs; by default the kernel runs as published.
  if (process.env.KERNEL_DEBUG === 'off') {
    console.debug = () => {};
  }
  await import('@metamask/kernel-shims/endoify');
  const { makeSQLKernelDatabase } = await import('@metamask/kernel-store/sqlite/nodejs');
  const { Logger } = await import('@metamask/logger');
  const { Kernel } = await import('@metamask/ocap-kernel');
  const { NodeWorkerDuplexStream } = await import('@metamask/streams');
  const { MessageChannel } = await import('node:worker_threads');
  const { CountingVatWorkerService } = await import('./vat-worker-service.mjs');

  // Only errors reach the console: the timed loops should not print.
  const logger = new Logger({
    transports: [(entry) => entry.level === 'error' && console.error(entry.tags, entry.message, ...(entry.data ?? []))],
  });
  const kernelDatabase = await makeSQLKernelDatabase({ dbFilename: ':memory:' });
  const commandStream = new NodeWorkerDuplexStream(new MessageChannel().port1);
  const service = new CountingVatWorkerService();
  const kernel = await Kernel.make(commandStream, service, kernelDatabase, { resetStorage: true, logger });
  return { kernel, service };
}

async function pingpong(n) {
  const { kernel, service } = await makeKernel();
  const { kunser, krefOf } = await import('@metamask/ocap-kernel');
  const bundleSpec = bundleURL('pingpong-vat');
  const result = await kernel.launchSubcluster({
    bootstrap: 'alice',
    forceReset: true,
    vats: { alice: { bundleSpec, parameters: {} }, bob: { bundleSpec, parameters: {} } },
  });
  const alice = krefOf(kunser(result));
  await kernel.queueMessage(alice, 'pingLoop', [WARMUP_ROUND_TRIPS]);
  const before = new Map(service.deliveries);
  const d0 = service.totalDeliveries();
  const t0 = performance.now();
  const last = kunser(await kernel.queueMessage(alice, 'pingLoop', [n]));
  const wallMs = performance.now() - t0;
  const cranks = service.totalDeliveries() - d0;
  if (last !== n - 1) throw new Error(`pingLoop returned ${last}, want ${n - 1}`);
  const deliveries = {};
  for (const [k, v] of service.deliveries) deliveries[k] = v - (before.get(k) ?? 0);
  // Each round trip is a `message` to bob and a `notify` to alice, plus the
  // pingLoop message itself; anything else (GC, reaps) is counted and shown.
  if (deliveries.message !== n + 1 || deliveries.notify !== n) {
    throw new Error(`deliveries ${JSON.stringify(deliveries)}, want message ${n + 1} and notify ${n}`);
  }
  return {
    n, wallMs, cranks, deliveries,
    cranksPerSec: cranks / (wallMs / 1000),
    roundTripsPerSec: n / (wallMs / 1000),
  };
}

async function launch(count) {
  const { kernel } = await makeKernel();
  const { kunser } = await import('@metamask/ocap-kernel');
  const bundleSpec = bundleURL('idle-vat');
  const launchMs = [];
  for (let i = 0; i < count; i += 1) {
    const t0 = performance.now();
    const result = await kernel.launchSubcluster({ bootstrap: 'idle', vats: { idle: { bundleSpec, parameters: {} } } });
    launchMs.push(performance.now() - t0);
    if (kunser(result) !== 'ready') throw new Error(`bootstrap returned ${kunser(result)}`);
  }
  return { launchMs };
}

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function settledRss() {
  for (let i = 0; i < 3; i += 1) {
    globalThis.gc?.();
    await sleep(300);
  }
  return process.memoryUsage().rss;
}

async function idle(count) {
  const { kernel } = await makeKernel();
  const { kunser } = await import('@metamask/ocap-kernel');
  const bundleSpec = bundleURL('idle-vat');
  const rssBefore = await settledRss();
  for (let i = 0; i < count; i += 1) {
    const result = await kernel.launchSubcluster({ bootstrap: 'idle', vats: { idle: { bundleSpec, parameters: {} } } });
    if (kunser(result) !== 'ready') throw new Error(`bootstrap returned ${kunser(result)}`);
  }
  await sleep(1000);
  const rssAfter = await settledRss();
  if (kernel.getVatIds().length !== count) throw new Error(`${kernel.getVatIds().length} vats running, want ${count}`);
  return {
    rssBeforeMiB: rssBefore / MiB,
    rssAfterMiB: rssAfter / MiB,
    rssPerVatMiB: (rssAfter - rssBefore) / count / MiB,
  };
}

const [mode, arg] = process.argv.slice(2);
const modes = { pingpong, launch, idle };
if (mode === undefined) {
  await driver();
} else if (modes[mode]) {
  if (!fs.existsSync(`${BUNDLES}idle-vat.bundle`)) {
    await bundleVats();
  }
  const r = await modes[mode](Number(arg));
  console.log(`RESULT ${JSON.stringify(r)}`);
  // Worker threads and the kernel's run loop keep the process alive.
  process.exit(0);
} else {
  console.error(`usage: node bench.mjs [pingpong N | launch COUNT | idle COUNT]`);
  process.exit(2);
}
