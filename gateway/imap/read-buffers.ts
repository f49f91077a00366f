/**
 * Read buffers for store sockets, reused instead of allocated per read. By default Node gives every
 * socket read a fresh 64 KiB buffer; a 50 MB FETCH relayed at line speed leaves hundreds of them for the
 * garbage collector, which V8 lets pile up to tens of megabytes of external memory before it collects.
 * Reusing a handful keeps the gateway's memory flat during bulk transfers.
 *
 * A buffer goes back to the free list only when the socket's current reader says nothing still points
 * into it; otherwise it is simply left to the collector, so a mistake here costs memory, never
 * correctness — unless a reader claims a buffer is free while it still holds it, which corrupts relayed
 * bytes. So this module alone keeps that answer (a WeakMap, not a field anyone can assign), and readers
 * declare themselves with one of three calls: readsByCopy(), readsByView(), readerChanging().
 * test/gateway/imap/read-buffer-reuse.test.ts relays a large FETCH to a stalled client and fails on a
 * premature reuse.
 */
import net from 'node:net';
import { MAX_FREE_READ_BUFFERS, READ_BUFFER_BYTES } from './limits.js';

export { READ_BUFFER_BYTES };
const MAX_FREE_BUFFERS = MAX_FREE_READ_BUFFERS;
const free: Buffer[] = [];

/**
 * Per recycling socket: called after each 'data' event, true when nothing refers to the chunk any
 * more. No entry means "maybe held", and the buffer is then not reused.
 */
const chunkReleased = new WeakMap<net.Socket, () => boolean>();

/** The socket's reader copies what it keeps: each read buffer may be reused once its 'data' listeners return. */
export function readsByCopy(socket: net.Socket): void {
  chunkReleased.set(socket, () => true);
}

/**
 * The socket's reader keeps views of the chunks (the relay writes them to the client as they are): a
 * buffer is reused only after a read for which `released()` is true (checked right after that read).
 */
export function readsByView(socket: net.Socket, released: () => boolean): void {
  chunkReleased.set(socket, released);
}

/** The socket is being handed to another reader: no buffer is reused until the next one declares itself. */
export function readerChanging(socket: net.Socket): void {
  chunkReleased.delete(socket);
}

/**
 * Opens a plain TCP connection whose reads land in reused buffers and are delivered as ordinary
 * 'data' events (each chunk valid only until its listener returns, unless its reader said readsByView()).
 */
export function connectRecycling(port: number, host: string): net.Socket {
  // Node asks for the next read's buffer at connect and after every read, so an open socket always
  // holds one that no reader has seen. When the socket closes it goes back to the free list: otherwise
  // every store connection would leave 64 KiB of external memory behind, and at a few hundred logins a
  // second V8 answers that pressure with a full mark-compact every few hundred milliseconds.
  let unread: Buffer | null = null;
  const socket: net.Socket = net.connect({
    port,
    host,
    onread: {
      buffer: () => (unread = free.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)),
      callback: (bytes: number, buffer: Uint8Array) => {
        if (unread === buffer) unread = null; // from now on readers may hold it
        socket.emit('data', Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
        if (chunkReleased.get(socket)?.()) release(buffer as Buffer);
        return true;
      },
    },
  });
  socket.once('close', () => {
    if (unread) release(unread);
    unread = null;
  });
  return socket;
}

function release(buffer: Buffer): void {
  if (free.length < MAX_FREE_BUFFERS) free.push(buffer);
}
