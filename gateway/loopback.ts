/**
 * Is a local address loopback? Both mail fronts accept passwords in the clear only on loopback
 * connections (the machine talking to itself); anywhere else only after TLS.
 */
import net from 'node:net';

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.x (::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return net.isIPv6(a) && (a === '::1' || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(a));
}
