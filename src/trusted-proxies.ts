/**
 * TRUSTED_PROXIES: the balancers (HAProxy …) whose word about the client's address Postern takes — the
 * PROXY protocol header on the mail listeners, X-Forwarded-For / Forwarded on the web. Nobody else's:
 * a header from any other peer is a forgery (gateway/proxy-protocol.ts, web/client-ip.ts).
 */
import net from 'node:net';

export interface ProxyNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses "10.0.0.0/8, 192.0.2.7, 2001:db8::/32"; null when an entry is not an address or a CIDR. */
export function parseProxyNetworks(text: string): ProxyNetwork[] | null {
  const out: ProxyNetwork[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address = '', prefixText, extra] = entry.split('/');
    const version = net.isIP(address);
    if (!version || extra !== undefined) return null;
    const max = version === 4 ? 32 : 128;
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (prefix > max) return null;
    out.push({ address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' });
  }
  return out;
}

const lists = new WeakMap<readonly ProxyNetwork[], net.BlockList>();

/** A socket's peer address in the form the rest of Postern uses (IPv4-mapped IPv6 as plain IPv4). */
export function normalizePeerAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** Whether `ip` (IPv4, IPv6 or IPv4-mapped IPv6) is one of the trusted proxies. */
export function isTrustedProxy(networks: readonly ProxyNetwork[] | undefined, ip: string | undefined): boolean {
  if (!networks?.length || !ip) return false;
  const address = normalizePeerAddress(ip);
  const version = net.isIP(address);
  if (!version) return false;
  let list = lists.get(networks);
  if (!list) {
    list = new net.BlockList();
    for (const n of networks) list.addSubnet(n.address, n.prefix, n.family);
    lists.set(networks, list);
  }
  return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
}
