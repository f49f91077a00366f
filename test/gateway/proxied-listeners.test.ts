/**
 * PROXY protocol on the real IMAP, IMAPS and SMTP listeners, with 127.0.0.1 as the trusted proxy: the
 * client it names reaches the audit row; what is not a valid header from it is closed; and a header from
 * anyone else (127.0.0.2 here) is refused before a byte of it, or of what follows, is read as a command.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImapGateway, type RunningImapGateway } from '../../gateway/imap/server.js';
import { startSmtpSubmission, type RunningSubmission } from '../../gateway/smtp/server.js';
import { listAuditEvents } from '../../src/audit.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { RawClient, createMailUser, selfSignedCertificate, type MailUser } from './imap/live-gateway.js';
import { v1, v2 } from './proxy-headers.js';

let ctx: TestContext;
let imap: RunningImapGateway;
let smtp: RunningSubmission;
let user: MailUser;
const cert = selfSignedCertificate();

beforeAll(async () => {
  ctx = await createTestContext({ env: { TRUSTED_PROXIES: '127.0.0.1' } });
  imap = await startImapGateway(ctx, { host: '127.0.0.1', port: 0, tls: cert, imapsPort: 0, proxyHeaderTimeoutMs: 300 });
  smtp = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: 9 }, closeTimeoutMs: 200, proxyHeaderTimeoutMs: 300 });
  user = await createMailUser(ctx, 'px');
});
afterAll(async () => {
  await imap?.close();
  await smtp?.close();
  await ctx?.close();
});

/** A TCP connection that sends `header` first (as the balancer does), from `localAddress`. */
async function connectWith(port: number, header: Buffer | null, localAddress = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  if (header) socket.write(header);
  return socket;
}

/** Whether the store's own login line for the user names `ip` as the remote address (the ID it was sent). */
async function storeSawClient(username: string, ip: string): Promise<void> {
  const line = new RegExp(`imap-login: Info: Login: user=<${username}>.*rip=${ip.replace(/[.]/g, '\\.')},`);
  const usersLines = () => fs.readFileSync(inject('dovecot').logPath, 'utf8').split('\n').filter((l) => l.includes(`<${username}>`));
  await expect.poll(() => usersLines().some((l) => line.test(l)), { timeout: 3000, message: `store's login lines:\n${usersLines().join('\n')}` }).toBe(true);
}

async function lastLoginIp(event: 'login.succeeded' | 'login.failed'): Promise<string | null | undefined> {
  const [row] = await listAuditEvents(ctx.db, { userId: user.userId, events: [event], limit: 1 });
  return row?.ip;
}

describe('IMAP behind a trusted proxy', () => {
  it('v1 TCP4: the client the header names logs in and is the address in the audit row', async () => {
    const c = new RawClient(await connectWith(imap.port, v1('TCP4 203.0.113.7 192.0.2.1 51000 143')));
    await c.waitFor(/^\* OK /);
    expect(await c.login(user.username, user.app)).toMatch(/^L1 OK /);
    expect(await lastLoginIp('login.succeeded')).toBe('203.0.113.7');
    // ...and the store's login line too: Dovecot throttles, logs and applies its own rules by that address.
    await storeSawClient(user.username, '203.0.113.7');
    c.close();
  });

  it('v2 IPv6, with the first command in the same packet as the header', async () => {
    const header = v2({ command: 'PROXY', source: '2001:db8::7', sourcePort: 40000 });
    const c = new RawClient(await connectWith(imap.port, Buffer.concat([header, Buffer.from('a0 NOOP\r\n')])));
    expect(await c.tagged('a0')).toMatch(/^a0 OK/);
    expect(await c.login(user.username, user.app)).toMatch(/^L1 OK /);
    expect(await lastLoginIp('login.succeeded')).toBe('2001:db8::7');
    await storeSawClient(user.username, '2001:db8::7');
    c.close();
  });

  it('v2 LOCAL (the proxy itself): served as the peer', async () => {
    const c = new RawClient(await connectWith(imap.port, v2({ command: 'LOCAL' })));
    await c.waitFor(/^\* OK /);
    expect(await c.login(user.username, 'wrong password')).toMatch(/^L1 NO /);
    expect(await lastLoginIp('login.failed')).toBe('127.0.0.1');
    c.close();
  });

  it('implicit TLS after a v2 header', async () => {
    const raw = await connectWith(imap.imapsPort!, v2({ command: 'PROXY', source: '198.51.100.20', sourcePort: 1 }));
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const c = new RawClient(secure);
    await c.waitFor(/^\* OK /);
    expect(await c.login(user.username, user.app)).toMatch(/^L1 OK /);
    expect(await lastLoginIp('login.succeeded')).toBe('198.51.100.20');
    c.close();
  });

  it.each([
    ['no header at all (the deadline passes)', null],
    ['a command instead of a header', Buffer.from(`a1 LOGIN ${user?.username ?? 'x'} wrong\r\n`)],
    ['a truncated v2 header', v2({ command: 'PROXY', source: '203.0.113.8', sourcePort: 1 }).subarray(0, 20)],
    ['a v1 header over 107 bytes', Buffer.from(`PROXY TCP6 ${'1'.repeat(110)}`)],
    ['a forged address form', v1('TCP4 203.0.113.7\r\n* OK 192.0.2.1 1 2')],
  ])('closes without a greeting: %s', async (_name, header) => {
    const c = new RawClient(await connectWith(imap.port, header));
    await c.waitClosed(5000);
    expect(c.text).toBe('');
  });
});

describe('a PROXY header from a peer that is not a trusted proxy', () => {
  it('IMAP: the connection is closed and nothing after the header runs (no login, no audit row)', async () => {
    const before = await listAuditEvents(ctx.db, { userId: user.userId, limit: 1000 });
    const forged = Buffer.concat([v1('TCP4 203.0.113.66 192.0.2.1 1 143'), Buffer.from(`a1 LOGIN ${user.username} wrong-guess\r\n`)]);
    const socket = net.connect({ port: imap.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const c = new RawClient(socket);
    await c.waitFor(/^\* OK /);
    socket.write(forged);
    await c.waitClosed(5000);
    expect(c.text).not.toMatch(/a1 /);
    const after = await listAuditEvents(ctx.db, { userId: user.userId, limit: 1000 });
    expect(after.length).toBe(before.length);
  });

  it('IMAP: a v2 signature sent a byte at a time is refused too', async () => {
    const socket = net.connect({ port: imap.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const c = new RawClient(socket);
    await c.waitFor(/^\* OK /);
    for (const byte of v2({ command: 'PROXY', source: '203.0.113.66', sourcePort: 1 }).subarray(0, 13)) socket.write(Buffer.from([byte]));
    await c.waitClosed(5000);
  });

  it('IMAP: an ordinary client from there is served', async () => {
    const socket = net.connect({ port: imap.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const c = new RawClient(socket);
    await c.waitFor(/^\* OK /);
    expect(await c.command('a1', 'NOOP')).toMatch(/^a1 OK/);
    c.close();
  });

  it('SMTP: the connection is closed', async () => {
    const socket = net.connect({ port: smtp.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const c = new RawClient(socket);
    await c.waitFor(/^220 /);
    socket.write(Buffer.concat([v1('TCP4 203.0.113.66 192.0.2.1 1 587'), Buffer.from('EHLO x\r\n')]));
    await c.waitClosed(5000);
    expect(c.text).not.toMatch(/^250/m);
  });
});

describe('SMTP behind a trusted proxy', () => {
  it('v2: AUTH from the named client is audited with its address', async () => {
    const c = new RawClient(await connectWith(smtp.port, v2({ command: 'PROXY', source: '192.0.2.55', sourcePort: 2 })));
    await c.waitFor(/^220 /);
    c.send('EHLO client.example\r\n');
    await c.waitFor(/^250 /);
    c.send(`AUTH PLAIN ${Buffer.from(`\0${user.username}\0${user.password}`).toString('base64')}\r\n`);
    await c.waitFor(/^235 /);
    expect(await lastLoginIp('login.succeeded')).toBe('192.0.2.55');
    c.close();
  });

  it('v1 is read too; a trusted peer without a header is closed', async () => {
    const c = new RawClient(await connectWith(smtp.port, v1('TCP4 192.0.2.56 192.0.2.1 1 587')));
    await c.waitFor(/^220 /);
    c.close();
    const bare = new RawClient(await connectWith(smtp.port, Buffer.from('EHLO x\r\n')));
    await bare.waitClosed(5000);
    expect(bare.text).toBe('');
  });
});
