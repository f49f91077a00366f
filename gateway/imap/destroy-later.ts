/**
 * The last step of a polite close: a socket that was ended (or asked to end) is destroyed if its peer
 * has not closed it within CLOSE_FLUSH_TIMEOUT_MS.
 *
 * The timer is cleared as soon as the socket closes. Left running, it would keep the socket and every
 * session object around it alive for the whole timeout: at hundreds of logins a second that is what
 * fills V8's old space and brings on full collections.
 */
import type net from 'node:net';
import { CLOSE_FLUSH_TIMEOUT_MS } from './limits.js';

export function destroyLater(socket: net.Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), CLOSE_FLUSH_TIMEOUT_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}
