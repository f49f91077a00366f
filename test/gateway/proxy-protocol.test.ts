/** The PROXY protocol parser (v1 and v2) and TRUSTED_PROXIES, byte by byte: no socket here. */
import { describe, expect, it } from 'vitest';
import { MAX_V2_PAYLOAD_BYTES, parseProxyHeader, signatureMatch } from '../../gateway/proxy-protocol.js';
import { loadConfig } from '../../src/config.js';
import { isTrustedProxy, parseProxyNetworks } from '../../src/trusted-proxies.js';
import { v1, v2 } from './proxy-headers.js';

describe('PROXY protocol v1', () => {
  it('reads TCP4 and TCP6 headers and says how many bytes they took', () => {
    const tcp4 = Buffer.concat([v1('TCP4 203.0.113.7 192.0.2.1 51000 143'), Buffer.from('a1 NOOP\r\n')]);
    expect(parseProxyHeader(tcp4)).toEqual({ kind: 'header', length: tcp4.length - 9, source: { address: '203.0.113.7', port: 51000 } });
    expect(parseProxyHeader(v1('TCP6 2001:DB8::7 2001:db8::1 443 143'))).toMatchObject({ source: { address: '2001:db8::7', port: 443 } });
  });

  it('UNKNOWN means the proxy speaks for itself (the socket peer is used)', () => {
    expect(parseProxyHeader(v1('UNKNOWN'))).toMatchObject({ kind: 'header', source: null });
    expect(parseProxyHeader(v1('UNKNOWN ffff::1 ffff::2 1 2'))).toMatchObject({ kind: 'header', source: null });
  });

  it('waits for the rest of a truncated header, byte by byte', () => {
    const whole = v1('TCP4 203.0.113.7 192.0.2.1 51000 143');
    for (let n = 1; n < whole.length; n++) expect(parseProxyHeader(whole.subarray(0, n)).kind).toBe('incomplete');
  });

  it.each([
    ['a line over 107 bytes', Buffer.from(`PROXY TCP6 ${'a'.repeat(120)}`)],
    ['a bare LF', Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n')],
    ['an IPv6 address under TCP4', v1('TCP4 2001:db8::7 192.0.2.1 1 2')],
    ['a host name', v1('TCP4 evil.example 192.0.2.1 1 2')],
    ['a port above 65535', v1('TCP4 203.0.113.7 192.0.2.1 65536 2')],
    ['a port with a leading zero', v1('TCP4 203.0.113.7 192.0.2.1 080 2')],
    ['a missing field', v1('TCP4 203.0.113.7 192.0.2.1 1')],
    ['double spaces', v1('TCP4  203.0.113.7 192.0.2.1 1 2')],
    ['an injected CR', Buffer.from('PROXY TCP4 203.0.113.7\r 192.0.2.1 1 2\r\n')],
    ['another protocol', v1('UDP4 203.0.113.7 192.0.2.1 1 2')],
  ])('refuses %s', (_name, bytes) => {
    expect(parseProxyHeader(bytes).kind).toBe('invalid');
  });
});

describe('PROXY protocol v2', () => {
  it('reads IPv4 and IPv6 sources, and skips TLVs', () => {
    const four = v2({ command: 'PROXY', source: '198.51.100.9', sourcePort: 40000, tlv: Buffer.from([0x04, 0x00, 0x02, 0xab, 0xcd]) });
    expect(parseProxyHeader(Buffer.concat([four, Buffer.from('x')]))).toEqual({ kind: 'header', length: four.length, source: { address: '198.51.100.9', port: 40000 } });
    expect(parseProxyHeader(v2({ command: 'PROXY', source: '2001:db8:0:0:0:0:0:7', sourcePort: 1 }))).toMatchObject({ source: { address: '2001:db8::7', port: 1 } });
    expect(parseProxyHeader(v2({ command: 'PROXY', source: '::ffff:198.51.100.9', sourcePort: 1 }))).toMatchObject({ source: { address: '198.51.100.9' } });
  });

  it('LOCAL (a health check of the proxy itself) carries no client', () => {
    expect(parseProxyHeader(v2({ command: 'LOCAL' }))).toMatchObject({ kind: 'header', length: 16, source: null });
  });

  it('waits for a truncated header, and refuses one longer than the bound before reading it', () => {
    const whole = v2({ command: 'PROXY', source: '2001:db8::7', sourcePort: 1 });
    for (let n = 1; n < whole.length; n++) expect(parseProxyHeader(whole.subarray(0, n)).kind).toBe('incomplete');
    const huge = Buffer.from(whole.subarray(0, 16));
    huge.writeUInt16BE(MAX_V2_PAYLOAD_BYTES + 1, 14);
    expect(parseProxyHeader(huge)).toMatchObject({ kind: 'invalid' });
  });

  it('refuses another version, an unknown command, a datagram transport and a short address block', () => {
    const base = v2({ command: 'PROXY', source: '198.51.100.9', sourcePort: 1 });
    const edit = (offset: number, value: number) => {
      const b = Buffer.from(base);
      b[offset] = value;
      return b;
    };
    expect(parseProxyHeader(edit(12, 0x31)).kind).toBe('invalid');
    expect(parseProxyHeader(edit(12, 0x22)).kind).toBe('invalid');
    expect(parseProxyHeader(edit(13, 0x12)).kind).toBe('invalid');
    const short = Buffer.from(base.subarray(0, 20));
    short.writeUInt16BE(4, 14);
    expect(parseProxyHeader(short).kind).toBe('invalid');
  });
});

describe('signatures and trusted proxies', () => {
  it('tells a signature, a possible start of one and ordinary protocol bytes apart', () => {
    expect(signatureMatch(Buffer.from('PROXY '))).toBe('yes');
    expect(signatureMatch(Buffer.from('PRO'))).toBe('maybe');
    expect(signatureMatch(Buffer.from('\r\n\r\n'))).toBe('maybe');
    expect(signatureMatch(Buffer.from('a1 LOGIN'))).toBe('no');
    expect(signatureMatch(Buffer.from('EHLO x'))).toBe('no');
  });

  it('TRUSTED_PROXIES takes addresses and CIDRs, matches IPv4-mapped peers, and names a bad entry', () => {
    const networks = parseProxyNetworks('10.0.0.0/8, 192.0.2.7,2001:db8::/32')!;
    expect(isTrustedProxy(networks, '10.1.2.3')).toBe(true);
    expect(isTrustedProxy(networks, '::ffff:192.0.2.7')).toBe(true);
    expect(isTrustedProxy(networks, '192.0.2.8')).toBe(false);
    expect(isTrustedProxy(networks, '2001:db8:1::9')).toBe(true);
    expect(isTrustedProxy([], '10.1.2.3')).toBe(false);
    expect(loadConfig({ TRUSTED_PROXIES: '127.0.0.1' }).TRUSTED_PROXIES).toEqual([{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }]);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES: expected addresses or CIDRs/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'haproxy.local' })).toThrow(/TRUSTED_PROXIES/);
  });
});
