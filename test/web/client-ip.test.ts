/** X-Forwarded-For / Forwarded: believed from TRUSTED_PROXIES only, read from the right. */
import { describe, expect, it } from 'vitest';
import { forwardedClient } from '../../web/client-ip.js';
import { parseProxyNetworks } from '../../src/trusted-proxies.js';

const trusted = parseProxyNetworks('10.0.0.0/8,2001:db8:ffff::/48')!;

describe('the web client address behind proxies', () => {
  it('ignores the headers from a peer that is not a trusted proxy', () => {
    expect(forwardedClient('198.51.100.4', { xForwardedFor: '203.0.113.7' }, trusted)).toBe('198.51.100.4');
    expect(forwardedClient('198.51.100.4', { forwarded: 'for=203.0.113.7' }, trusted)).toBe('198.51.100.4');
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '203.0.113.7' }, [])).toBe('10.0.0.5');
  });

  it('takes the rightmost address that is not a trusted proxy; what the client wrote to its left is not believed', () => {
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '203.0.113.7' }, trusted)).toBe('203.0.113.7');
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '1.1.1.1, 203.0.113.7, 10.0.0.9' }, trusted)).toBe('203.0.113.7');
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '203.0.113.7:4711' }, trusted)).toBe('203.0.113.7');
  });

  it('reads Forwarded (RFC 7239) when there is no X-Forwarded-For, IPv6 quoted and bracketed', () => {
    expect(forwardedClient('10.0.0.5', { forwarded: 'for=192.0.2.60;proto=https, for="[2001:db8::7]:4711";by=10.0.0.5' }, trusted)).toBe('2001:db8::7');
    expect(forwardedClient('2001:db8:ffff::1', { forwarded: 'For=192.0.2.60' }, trusted)).toBe('192.0.2.60');
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '203.0.113.7', forwarded: 'for=192.0.2.60' }, trusted)).toBe('203.0.113.7');
  });

  it('stops at garbage or "unknown" and keeps the last trusted hop; all-trusted chains give the leftmost', () => {
    expect(forwardedClient('10.0.0.5', { xForwardedFor: 'evil.example, 10.0.0.9' }, trusted)).toBe('10.0.0.9');
    expect(forwardedClient('10.0.0.5', { forwarded: 'for=unknown' }, trusted)).toBe('10.0.0.5');
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '' }, trusted)).toBe('10.0.0.5');
    expect(forwardedClient('10.0.0.5', { xForwardedFor: '10.0.0.8, 10.0.0.9' }, trusted)).toBe('10.0.0.8');
  });
});
