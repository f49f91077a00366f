/** The client's address: the socket peer as @hono/node-server reports it (or what WebOptions says). */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { WebOptions } from './env.js';

export function clientIpOf(c: Context, options: WebOptions): string {
  const custom = options.clientIp?.(c.req.raw, c.env);
  if (custom) return custom;
  try {
    const address = getConnInfo(c).remote.address;
    if (address) return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  } catch {
    // app.request() in tests has no socket.
  }
  return '0.0.0.0';
}
