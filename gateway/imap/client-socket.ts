/**
 * The client's socket as a connection uses it: writes, backpressure in both directions, and the switch
 * to TLS at STARTTLS, which replaces the socket object under the same connection (the listeners move
 * with it, so nothing the plaintext socket still delivers reaches the connection).
 */
import type net from 'node:net';
import tls from 'node:tls';
import { destroyLater } from './destroy-later.js';
import { MAX_PENDING_OUTPUT_BYTES } from './limits.js';

/** Why reading from the client is paused (bit flags, so independent reasons do not undo each other). */
export const PAUSED_FOR_BUFFER = 1;
export const PAUSED_FOR_UPSTREAM = 2;

/** The connection's listeners: created once per connection, attached to whichever socket is current. */
export interface ClientSocketListeners {
  data: (chunk: Buffer) => void;
  drain: () => void;
  timeout: () => void;
  /** end, error and close alike: the client is gone. */
  gone: () => void;
}

export class ClientSocket {
  private paused = 0;
  /** Ended or destroyed: a pause lifted now must not resume reading. */
  private done = false;

  constructor(
    private socket: net.Socket,
    private readonly listeners: ClientSocketListeners,
  ) {
    socket.setNoDelay(true);
    this.attach(socket);
  }

  /** One response line (CRLF added). */
  writeLine(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Relayed bytes as they are; false when the socket wants a pause. */
  writeRaw(data: Buffer): boolean {
    return this.socket.write(data);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Bytes written and not yet taken by the kernel (they may be views of read buffers). */
  get pendingOutputBytes(): number {
    return this.socket.writableLength;
  }

  /** Too much is queued for the client: the store is not read until the socket drains. */
  get outputBlocked(): boolean {
    return this.socket.writableLength > MAX_PENDING_OUTPUT_BYTES;
  }

  /** The idle timeout (0: none while the gateway itself is busy, e.g. verifying a login). */
  setTimeout(ms: number): void {
    this.socket.setTimeout(ms);
  }

  pauseInput(reason: number): void {
    if (this.paused === 0) this.socket.pause();
    this.paused |= reason;
  }

  resumeInput(reason: number): void {
    if ((this.paused & reason) === 0) return;
    this.paused &= ~reason;
    if (this.paused === 0 && !this.done) this.socket.resume();
  }

  /**
   * STARTTLS: the handshake starts on the raw socket at once; from now on the listeners hear only the
   * TLS socket. `secured` runs once the handshake is done.
   */
  upgrade(secureContext: tls.SecureContext, timeoutMs: number, secured: () => void): void {
    const raw = this.socket;
    this.detach(raw);
    raw.on('error', () => raw.destroy());
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
    this.socket = secure;
    this.attach(secure);
    secure.setTimeout(timeoutMs);
    secure.once('secure', secured);
  }

  /** Closes once what was written is flushed (and for sure a little later: destroy-later.ts). */
  end(): void {
    this.done = true;
    this.socket.end();
    destroyLater(this.socket);
  }

  destroy(): void {
    this.done = true;
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    const { data, drain, timeout, gone } = this.listeners;
    socket.on('data', data);
    socket.on('drain', drain);
    socket.on('timeout', timeout);
    socket.on('end', gone);
    socket.on('error', gone);
    socket.on('close', gone);
  }

  private detach(socket: net.Socket): void {
    const { data, drain, timeout, gone } = this.listeners;
    socket.off('data', data);
    socket.off('drain', drain);
    socket.off('timeout', timeout);
    socket.off('end', gone);
    socket.off('error', gone);
    socket.off('close', gone);
  }
}
