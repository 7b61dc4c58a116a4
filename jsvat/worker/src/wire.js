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
// together when it is done (or once they pass this many UTF-16 code
// units, about as many bytes), in order: a delivery's syscalls and its
// response then cost one write, and the kernel one wake-up, rather than
// one each. The kernel applies them in the same order either way, all
// before the response; it just hears of them later, which changes
// nothing, since it waits for the response anyway.
export const BATCH_BYTES = 64 << 10;

// The writer's scratch buffer: a batch that fits (almost every one) is
// encoded into it, so a delivery's write allocates no Buffer.
const SCRATCH_BYTES = 16 << 10;

// The size of the reader's one buffer: a read takes at most this much of
// what is in the pipe (a pipe holds 64 KiB by default).
const READ_BYTES = 64 << 10;

/**
 * Makes the worker's writer of frames to fd. write sends a message (held
 * while batching); writeJSON sends a message already in JSON text;
 * batch(fn) runs fn with batching on and flushes after.
 *
 * @param {number} fd
 * @param {number} maxFrame
 */
export const makeWriter = (fd, maxFrame) => {
  // Held frames as one string: V8 concatenates strings as ropes, so this
  // costs no copy until the flush encodes it.
  let held = '';
  let batching = false;
  const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  const writeAll = text => {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate
    // pair, two units, takes 4), so a text of at most a third of the
    // scratch buffer always fits in it whole.
    let bytes;
    let len;
    if (text.length * 3 <= SCRATCH_BYTES) {
      bytes = scratch;
      len = scratch.write(text, 0, 'utf8');
    } else {
      bytes = Buffer.from(text, 'utf8');
      len = bytes.length;
    }
    let off = 0;
    while (off < len) {
      off += fs.writeSync(fd, bytes, off, len - off);
    }
  };
  const flush = () => {
    if (held !== '') {
      const text = held;
      held = '';
      writeAll(text);
    }
  };
  // urgent: written at once, with what is held before it (log entries:
  // a vat's last words before it spins must reach the kernel).
  const writeJSON = (json, urgent = false) => {
    const line = `${json}\n`;
    // The exact size is counted only for a frame that might be over the
    // limit: below a third of it in code units, none can be.
    if (line.length * 3 > maxFrame) {
      const size = Buffer.byteLength(line, 'utf8');
      if (size > maxFrame) {
        // The kernel would refuse it (and fail the delivery); saying so here
        // names the cause, in the log, before the worker gives up.
        throw Error(`frame of ${size} bytes exceeds the limit of ${maxFrame}`);
      }
    }
    if (!batching) {
      writeAll(line);
      return;
    }
    held += line;
    if (urgent || held.length >= BATCH_BYTES) {
      flush();
    }
  };
  const write = (message, urgent = false) => writeJSON(JSON.stringify(message), urgent);
  const batch = async fn => {
    batching = true;
    try {
      return await fn();
    } finally {
      batching = false;
      flush();
    }
  };
  return { write, writeJSON, batch, flush };
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
  /** @type {Buffer[]} */
  let pending = [];
  let pendingLen = 0;
  let ended = false;
  /** @type {net.Socket} */
  let stream;
  const end = err => {
    if (!ended) {
      ended = true;
      stream.destroy();
      onEnd(err);
    }
  };
  // buffer's first n bytes are what arrived. buffer is the socket's one
  // read buffer, reused for the next read, so nothing may keep a view of
  // it: a frame is decoded from it at once, and a frame's start that
  // waits for its end is copied.
  const onChunk = (buffer, n) => {
    // A view of what arrived, so the search for '\n' stops at its end.
    const chunk = buffer.subarray(0, n);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        break;
      }
      const len = pendingLen + (nl - start) + 1;
      if (len > maxFrame) {
        end(Error(`frame of ${len} bytes exceeds the limit of ${maxFrame}`));
        return;
      }
      let text;
      if (pending.length) {
        pending.push(chunk.subarray(start, nl));
        text = Buffer.concat(pending).toString('utf8');
        pending = [];
        pendingLen = 0;
      } else {
        text = chunk.toString('utf8', start, nl);
      }
      start = nl + 1;
      let msg;
      try {
        msg = JSON.parse(text);
      } catch (e) {
        end(Error(`frame is not JSON: ${e.message}`));
        return;
      }
      onMessage(msg);
      if (ended) {
        return;
      }
    }
    if (start < n) {
      pendingLen += n - start;
      if (pendingLen >= maxFrame) {
        end(Error(`frame of more than ${maxFrame} bytes exceeds the limit`));
        return;
      }
      // Copied: the socket reads its next bytes into the same buffer.
      pending.push(Buffer.from(chunk.subarray(start, n)));
    }
  };
  // A socket over the pipe: libuv polls it on the event loop, where a
  // file stream would read through the thread pool (a thread hop, and its
  // latency, for every frame). With onread, each read lands in one
  // buffer of the socket's and comes straight to onChunk, without the
  // stream's 'data' machinery (a Buffer, a push and an event a read).
  stream = new net.Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (n, chunk) => {
        onChunk(chunk, n);
        // false stops the reads: the worker is giving up on its input.
        return !ended;
      },
    },
  });
  stream.on('end', () => end());
  stream.on('error', err => end(err));
};
