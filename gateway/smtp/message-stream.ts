/**
 * The bridge between the client's DATA stream and the upstream connection. It never holds the whole
 * message: chunks pass through with backpressure (the client is paused while the upstream is slow).
 * It also decides when the upstream must NOT get the message: over the size limit, or the client gone
 * mid-message. Then the outgoing side is destroyed (so the relay drops the upstream connection before
 * the final dot) while the incoming side keeps draining, because smtp-server only answers the client
 * once the DATA stream has ended.
 */
import { Readable } from 'node:stream';
import { replies } from './replies.js';

export interface RelayStream {
  /** What the relay reads: `prefix` followed by the client's bytes. */
  readable: Readable;
  /** Stop forwarding (the upstream failed); the client's remaining bytes are read and thrown away. */
  abort(): void;
  /** Bytes received from the client so far. */
  readonly bytes: number;
}

export function createRelayStream(source: Readable, options: { maxBytes: number; prefix?: Buffer }): RelayStream {
  let bytes = 0;
  let dead = false;
  const readable = new Readable({
    read() {
      if (!dead) source.resume();
    },
  });
  const die = (err?: Error) => {
    if (dead) return;
    dead = true;
    if (!readable.destroyed) readable.destroy(err);
    source.resume();
  };
  if (options.prefix?.length) readable.push(options.prefix);
  source.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (dead) return;
    if (bytes > options.maxBytes) return die(replies.messageTooBig(options.maxBytes));
    if (!readable.push(chunk)) source.pause();
  });
  source.once('end', () => {
    if (!dead) readable.push(null);
  });
  source.once('error', (e: Error) => die(e));
  source.once('close', () => {
    if (!source.readableEnded) die(new Error('client went away before the end of the message'));
  });
  // Whoever reads `readable` may give up on it (destroy); from then on we only drain the client.
  readable.once('close', () => die());
  return {
    readable,
    abort: () => die(),
    get bytes() {
      return bytes;
    },
  };
}
