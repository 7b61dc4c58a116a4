// The reference's liveslots promise-handling scenarios (ocap-kernel's
// kernel-test, "liveslots promise handling"), written anew: one vat file
// plays Alice, Bob and Carol, and parameters.test picks the scenario
// Alice runs at bootstrap. The test log (vatPowers.logger with the tags
// "test" and the vat's name) is what the reference's tests check.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

const isPromise = v => Promise.resolve(v) === v;

export function buildRootObject(vatPowers, parameters) {
  const name = parameters?.name ?? 'anonymous';
  const test = parameters?.test ?? 'unspecified';
  const testLog = vatPowers.logger.subLogger({ tags: ['test', name] });
  const tlog = message => testLog.log(message);

  // Alice's side of each scenario, given the other vats; each returns
  // what bootstrap answers.
  const scenarios = {
    async promiseArg1(vats) {
      return promiseArg(vats, 'after send');
    },
    async promiseArg2(vats) {
      return promiseArg(vats, 'before send');
    },
    async promiseArg3(vats) {
      return promiseArg(vats, "after Bob's reply");
    },
    async promiseChain(vats) {
      const ready = E(vats.bob).bobInit();
      await E(vats.bob).bobGen();
      const limit = 3;
      const waitFor = async prev => {
        tlog('waitFor start');
        const [value, next] = await prev;
        if (value < limit) {
          tlog(`count ${value} < ${limit}, recurring...`);
          await E(vats.bob).bobGen();
          return waitFor(next);
        }
        tlog('finishing chain');
        return 'end of chain';
      };
      return waitFor(ready);
    },
    async promiseCycle(vats) {
      const x = E(vats.bob).genPromise1();
      const y = E(vats.bob).genPromise2();
      await E(vats.bob).resolveBoth([x], [y]);
      return checkCycle(x, y);
    },
    async promiseCycleMultiCrank(vats) {
      const x = E(vats.bob).genPromise1();
      const y = E(vats.bob).genPromise2();
      await E(vats.bob).resolve1([y]);
      await E(vats.bob).resolve2([x]);
      return checkCycle(x, y);
    },
    async promiseCrosswise(vats) {
      const x = E(vats.bob).genPromise();
      const y = E(vats.carol).genPromise();
      await E(vats.bob).resolve([y]);
      await E(vats.carol).resolve([x]);
      return checkCycle(x, y);
    },
    async promiseIndirect(vats) {
      const p1 = E(vats.bob).genHello();
      const p2 = E(vats.bob).genPromise2();
      await E(vats.bob).resolve([p1]);
      tlog(`resolution == ${await p2}`);
      return 'done';
    },
    async passResult(vats) {
      const p1 = E(vats.bob).first();
      const p2 = E(vats.bob).second(p1);
      return both(p1, p2);
    },
    async passResultPromise(vats) {
      const p1 = E(vats.bob).firstPromise();
      const p2 = E(vats.bob).secondPromise(p1);
      return both(p1, p2);
    },
    async resolvePipelined(vats) {
      const p1 = E(vats.bob).firstThing();
      const p2 = E(p1).second(p1);
      return both(p1, p2);
    },
    async messageToPromise(vats) {
      const p1 = E(vats.bob).setup();
      const p2 = E(p1).doSomething();
      const done = p2.then(
        r => {
          tlog(`second result resolved to '${r}'`);
          return 'p2succ';
        },
        r => {
          tlog(`second result rejected with '${r}'`);
          return 'p2fail';
        },
      );
      await E(vats.bob).doResolve();
      tlog('invoking loopback');
      await E(vats.bob).loopbackLogged();
      tlog('loopback done');
      return done;
    },
  };

  let sent; // promiseArg: the promise sent to Bob, and its resolver
  const promiseArg = async (vats, when) => {
    const kit = makePromiseKit();
    sent = kit;
    if (when === 'before send') {
      tlog('resolving the promise that will be sent to Bob');
      kit.resolve(`${name} said hi before send`);
    }
    tlog('sending the promise to Bob');
    const answer = E(vats.bob).hereIsAPromise(kit.promise);
    if (when === 'after send') {
      tlog('resolving the promise that was sent to Bob');
      kit.resolve(`${name} said hi after send`);
    }
    tlog("awaiting Bob's response");
    const [bobDone, message] = await answer;
    tlog(`Bob's response to hereIsAPromise: '${message}'`);
    if (when === "after Bob's reply") {
      tlog('resolving the promise that was sent to Bob');
      kit.resolve(`${name} said hi after Bob's reply`);
    }
    return bobDone;
  };

  const checkCycle = async (x, y) => {
    const rx = await x;
    const ry = await y;
    tlog(`isPromise(resolutionX[0]): ${isPromise(rx[0])}`);
    tlog(`isPromise(resolutionY[0]): ${isPromise(ry[0])}`);
    return 'done';
  };

  const both = (p1, p2) =>
    Promise.all([
      p1.then(
        r => {
          tlog(`first result resolved to ${r}`);
          return 'p1succ';
        },
        r => {
          tlog(`first result rejected with ${r}`);
          return 'p1fail';
        },
      ),
      p2.then(
        r => {
          tlog(`second result resolved to ${r}`);
          return 'p2succ';
        },
        r => {
          tlog(`second result rejected with ${r}`);
          return 'p2fail';
        },
      ),
    ]);

  // The other vats' side.
  let chainResolve; // promiseChain
  let chainValue = 0;
  let kit1; // promiseCycle, promiseIndirect
  let kit2;
  let crossKit; // promiseCrosswise
  let deferred; // messageToPromise
  let firstKit; // passResultPromise
  const thing = Far('thing', {
    second() {
      tlog('thing.second');
      return "Bob's second answer";
    },
    doSomething() {
      tlog('thing.doSomething');
      return 'deferred something';
    },
  });

  return Far('root', {
    async bootstrap(vats) {
      tlog(`running test ${test}`);
      if (!Object.hasOwn(scenarios, test)) {
        throw Error(`unknown test ${test}`);
      }
      const done = scenarios[test](vats);
      // Every vat's log is in before bootstrap answers (the reference's
      // "loopback": a round trip to Bob after everything else).
      await E(vats.bob).loopback();
      return done;
    },
    loopback() {},
    loopbackLogged() {
      tlog('loopback');
    },
    hereIsAPromise(promise) {
      const done = promise.then(
        r => {
          tlog(`the promise parameter resolved to '${r}'`);
          return 'bobPSucc';
        },
        r => {
          tlog(`the promise parameter rejected as '${r}'`);
          return 'bobPFail';
        },
      );
      return [done, `${name}.hereIsAPromise done`];
    },
    bobInit() {
      const { promise, resolve } = makePromiseKit();
      chainResolve = resolve;
      return promise;
    },
    bobGen() {
      const { promise, resolve } = makePromiseKit();
      const next = [chainValue, promise];
      chainValue += 1;
      tlog(`bobGen set value to ${chainValue}`);
      chainResolve(next);
      chainResolve = resolve;
    },
    genPromise1() {
      tlog('genPromise1');
      kit1 = makePromiseKit();
      return kit1.promise;
    },
    genHello() {
      tlog('genPromise1'); // the reference's name for it, in its log
      return 'hello';
    },
    genPromise2() {
      tlog('genPromise2');
      kit2 = makePromiseKit();
      return kit2.promise;
    },
    resolveBoth(rx, ry) {
      tlog('resolveBoth');
      kit1.resolve(ry);
      kit2.resolve(rx);
    },
    resolve1(r) {
      tlog('resolve1');
      kit1.resolve(r);
    },
    resolve2(r) {
      tlog('resolve2');
      kit2.resolve(r);
    },
    genPromise() {
      tlog('genPromise');
      crossKit = makePromiseKit();
      return crossKit.promise;
    },
    resolve(r) {
      tlog('resolve');
      if (crossKit) {
        crossKit.resolve(r);
      } else {
        kit2.resolve(r[0]);
      }
    },
    first() {
      tlog('first');
      return "Bob's first answer";
    },
    async second(p) {
      tlog('second');
      tlog(`parameter to second resolved to ${await p}`);
      return "Bob's second answer";
    },
    firstPromise() {
      tlog('first');
      firstKit = makePromiseKit();
      return firstKit.promise; // settled by secondPromise
    },
    async secondPromise(p) {
      tlog('second');
      firstKit.resolve('Bob answers first in second');
      tlog(`parameter to second resolved to ${await p}`);
      return "Bob's second answer";
    },
    firstThing() {
      tlog('first');
      return thing;
    },
    setup() {
      tlog('setup');
      deferred = makePromiseKit();
      return deferred.promise;
    },
    doResolve() {
      tlog('doResolve');
      deferred.resolve(thing);
    },
  });
}
