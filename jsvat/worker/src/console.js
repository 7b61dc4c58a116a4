// The vat's console, and the logger liveslots and vatPowers get: each call
// becomes a log notification to the kernel, which writes it to its log
// tagged with the vat (docs/vat-protocol.md, "Log notifications"). The
// shape is the reference's: a JSON-RPC notification "notify" whose params
// are ["logger", entry], entry a JSON text {level, tags, message}.
import { inspect } from 'node:util';

// One entry's message is cut at this many UTF-16 code units: a vat that
// logs a huge value costs the kernel a bounded line, not a huge frame.
export const MAX_MESSAGE = 16 * 1024;

const LEVELS = harden(['debug', 'info', 'log', 'warn', 'error']);

/**
 * An Error as its stack (which starts with its name and message), else
 * its name and message: Node's inspect printed a hardened Error of the
 * vat's realm as {}. Reading it may throw (a getter, a proxy): the caller
 * catches that.
 *
 * @param {Error} e
 */
export const describeError = e => {
  const head = `${e.name}: ${e.message}`;
  return typeof e.stack === 'string' && e.stack.startsWith(head) ? e.stack : head;
};

const format = args =>
  args
    .map(a => {
      if (typeof a === 'string') {
        return a;
      }
      if (a instanceof Error) {
        return describeError(a);
      }
      return inspect(a, { depth: 4, breakLength: Infinity, maxArrayLength: 50, maxStringLength: 2048 });
    })
    .join(' ');

/**
 * @param {(entry: {level: string, tags: string[], message: string}) => void} send
 * @param {string[]} tags
 */
export const makeLogger = (send, tags) => {
  const emit = level => (...args) => {
    let message;
    try {
      message = format(args);
    } catch (e) {
      // An argument whose inspection throws (a hostile proxy) must not
      // take the logger down with it.
      message = `(unprintable log arguments: ${e && e.message})`;
    }
    if (message.length > MAX_MESSAGE) {
      message = `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters cut)`;
    }
    send({ level, tags, message });
  };
  const logger = {};
  for (const level of LEVELS) {
    logger[level] = emit(level);
  }
  // console's other common methods, mapped onto the levels.
  logger.trace = emit('debug');
  logger.dir = emit('log');
  logger.assert = (cond, ...args) => {
    if (!cond) {
      emit('error')('Assertion failed:', ...args);
    }
  };
  // The reference's Logger API, which some vats use through
  // vatPowers.logger: a sub-logger adds tags.
  logger.subLogger = ({ tags: more = [] } = {}) => makeLogger(send, [...tags, ...more.map(String)]);
  return harden(logger);
};
