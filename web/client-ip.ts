/**
 * The client's address: the socket peer as @hono/node-server reports it (or what WebOptions says) — unless
 * the peer is one of TRUSTED_PROXIES, in which case its X-Forwarded-For (or, without one, Forwarded,
 * RFC 7239) names the client. Each proxy appends the address it received the request from, so the list is
 * read from the right: trusted hops are skipped, and the first address that is not a trusted proxy is the
 * client. Anything to its left was written by the client itself and is never believed.
 */
import net from 'node:net';
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { isTrustedProxy, normalizePeerAddress, type ProxyNetwork } from '../src/trusted-proxies.js';
import type { WebOptions } from './env.js';

export function clientIpOf(c: Context, options: WebOptions, trusted: readonly ProxyNetwork[] = []): string {
  const custom = options.clientIp?.(c.req.raw, c.env);
  if (custom) return custom;
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    // app.request() in tests has no socket.
  }
  if (!peer) return '0.0.0.0';
  return forwardedClient(normalizePeerAddress(peer), { xForwardedFor: c.req.header('x-forwarded-for'), forwarded: c.req.header('forwarded') }, trusted);
}

/** The client behind `peer` per the forwarding headers, believed only as far as the proxies are trusted. */
export function forwardedClient(
  peer: string,
  headers: { xForwardedFor?: string | undefined; forwarded?: string | undefined },
  trusted: readonly ProxyNetwork[],
): string {
  if (!isTrustedProxy(trusted, peer)) return peer;
  const hops = headers.xForwardedFor !== undefined ? headers.xForwardedFor.split(',') : forwardedFor(headers.forwarded ?? '');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    // "unknown", an obfuscated name or garbage: the trusted hop to its right is as far as we know.
    if (!hop) return client;
    client = hop;
    if (!isTrustedProxy(trusted, hop)) return hop;
  }
  return client;
}

/** The for= values of a Forwarded header, in order (RFC 7239 §4). */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(',')) {
    const pair = element.split(';').map((p) => p.trim()).find((p) => /^for=/i.test(p));
    out.push(pair ? pair.slice(4) : '');
  }
  return out;
}

/** "203.0.113.7", "203.0.113.7:4711", "[2001:db8::7]:4711", "\"[2001:db8::7]\"", "2001:db8::7" → the address; else null. */
function hopAddress(raw: string): string | null {
  let v = raw.trim().replace(/^"(.*)"$/, '$1');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(v);
  if (bracketed) v = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(v)) v = v.slice(0, v.lastIndexOf(':'));
  return net.isIP(v) ? normalizePeerAddress(v.toLowerCase()) : null;
}
