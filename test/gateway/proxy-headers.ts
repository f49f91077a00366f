/** PROXY protocol headers as a balancer writes them (proxy-protocol.txt), for the tests. */
import net from 'node:net';

export function v1(rest: string): Buffer {
  return Buffer.from(`PROXY ${rest}\r\n`, 'latin1');
}

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 header; `source` IPv4 or IPv6 (destination: the same family's documentation address). */
export function v2(options: { command: 'LOCAL' | 'PROXY'; source?: string; sourcePort?: number; tlv?: Buffer }): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = options.command === 'LOCAL' ? 0x20 : 0x21;
  let body = Buffer.alloc(0);
  if (options.source) {
    const six = net.isIPv6(options.source);
    fixed[1] = six ? 0x21 : 0x11;
    const addresses = six ? Buffer.concat([ipv6Bytes(options.source), ipv6Bytes('2001:db8::1')]) : Buffer.from([...ipv4Bytes(options.source), 192, 0, 2, 1]);
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(options.sourcePort ?? 0, 0);
    ports.writeUInt16BE(143, 2);
    body = Buffer.concat([addresses, ports, options.tlv ?? Buffer.alloc(0)]);
  }
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIGNATURE, fixed, body]);
}

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

function ipv6Bytes(ip: string): Buffer {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ipv4Bytes(mapped[1]!)]);
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : ip.split(':');
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
