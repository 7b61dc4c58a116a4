// The framing of the vat protocol (docs/vat-protocol.md): one JSON-RPC 2.0
// message per line, UTF-8, '\n' ending each frame, at most maxFrame bytes
// including the '\n'. The kernel writes to the worker's fd 3 and reads its
// fd 4; stdout and stderr are only logged, so nothing a library prints can
// corrupt the protocol.
import fs from 'node:fs';
import net from 'node:net';

// The fds of the protocol, as the kernel sets them up.
export const IN_FD = 3;
export const OUT_FD = 4;

// Frames written while the worker handles a request are held and written
// together when it is done (or once they pass this many bytes), in order:
// a delivery's syscalls and its response then cost one write, and the
// kernel one wake-up, rather than one each. The kernel applies them in the
// same order either way, all before the response; it just hears of them
// later, which changes nothing, since it waits for the response anyway.
export const BATCH_BYTES = 64 << 10;

/**
 * Makes the worker's writer of frames to fd. write sends a message (held
 * while batching); batch(fn) runs fn with batching on and flushes after.
 *
 * @param {number} fd
 * @param {number} maxFrame
 */
export const makeWriter = (fd, maxFrame) => {
  /** @type {string[]} */
  let held = [];
  let heldBytes = 0;
  let batching = false;
  const writeAll = text => {
    const bytes = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < bytes.length) {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    }
  };
  const flush = () => {
    if (held.length) {
      const text = held.join('');
      held = [];
      heldBytes = 0;
      writeAll(text);
    }
  };
  // urgent: written at once, with what is held before it (log entries:
  // a vat's last words before it spins must reach the kernel).
  const write = (message, urgent = false) => {
    const line = `${JSON.stringify(message)}\n`;
    const size = Buffer.byteLength(line, 'utf8');
    if (size > maxFrame) {
      // The kernel would refuse it (and fail the delivery); saying so here
      // names the cause, in the log, before the worker gives up.
      throw Error(`frame of ${size} bytes exceeds the limit of ${maxFrame}`);
    }
    if (!batching) {
      writeAll(line);
      return;
    }
    held.push(line);
    heldBytes += size;
    if (urgent || heldBytes >= BATCH_BYTES) {
      flush();
    }
  };
  const batch = async fn => {
    batching = true;
    try {
      return await fn();
    } finally {
      batching = false;
      flush();
    }
  };
  return { write, batch, flush };
};

/**
 * Reads frames from fd and calls onMessage with each parsed message, in
 * order. onEnd is called once: with no argument when the kernel closed the
 * pipe (the worker should exit), or with an error for a frame that is too
 * long or not JSON (the kernel broke the protocol; the worker exits too).
 *
 * @param {number} fd
 * @param {number} maxFrame
 * @param {(msg: unknown) => void} onMessage
 * @param {(err?: Error) => void} onEnd
 */
export const readFrames = (fd, maxFrame, onMessage, onEnd) => {
  // A socket over the pipe: libuv polls it on the event loop, where a
  // file stream would read through the thread pool (a thread hop, and its
  // latency, for every frame).
  const stream = new net.Socket({ fd, readable: true, writable: false });
  /** @type {Buffer[]} */
  let pending = [];
  let pendingLen = 0;
  let ended = false;
  const end = err => {
    if (!ended) {
      ended = true;
      stream.destroy();
      onEnd(err);
    }
  };
  stream.on('data', chunk => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        break;
      }
      const part = chunk.subarray(start, nl);
      const len = pendingLen + part.length + 1;
      if (len > maxFrame) {
        end(Error(`frame of ${len} bytes exceeds the limit of ${maxFrame}`));
        return;
      }
      const line = pending.length ? Buffer.concat([...pending, part]) : part;
      pending = [];
      pendingLen = 0;
      start = nl + 1;
      let msg;
      try {
        msg = JSON.parse(line.toString('utf8'));
      } catch (e) {
        end(Error(`frame is not JSON: ${e.message}`));
        return;
      }
      onMessage(msg);
      if (ended) {
        return;
      }
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pendingLen += rest.length;
      if (pendingLen >= maxFrame) {
        end(Error(`frame of more than ${maxFrame} bytes exceeds the limit`));
        return;
      }
      // Copied: the stream may reuse its buffer.
      pending.push(Buffer.from(rest));
    }
  });
  stream.on('end', () => end());
  stream.on('error', err => end(err));
};
