/**
 * The name an SMTP client greets with (EHLO/HELO, RFC 5321 §4.1.1.1) names it as IMAP's ID does: in the
 * login (an app password's "new client" memory and its login notice) and in the live-session list of
 * Options → Security, on this instance and in the rows other instances read. Printable, 80 characters.
 * Real listener, nodemailer and a raw socket as clients, a sink as the outgoing MTA.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { eq } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { loginSeenClients } from '../../../src/db/schema.js';
import { settleLoginNotices } from '../../../src/notices/index.js';
import { listSessions } from '../../../src/sessions/list-sessions.js';
import { listSessionRows } from '../../../src/sessions/session-rows.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { rawMessage } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}` } });
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, closeTimeoutMs: 200 });
});
afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

async function newUser(prefix: string) {
  const username = `${prefix}${crypto.randomBytes(4).toString('hex')}`;
  const user = await createUser(ctx, { username, password: 'smtp main password', email: `${username}@example.test`, addressesProven: true });
  const app = await createAppPassword(ctx, { userId: user.id, services: ['smtp'], label: 'mail program' });
  return { username, id: user.id, address: `${username}@example.test`, app };
}

/** A raw client: greets with `greeting` (e.g. "EHLO laptop.example"), then AUTH PLAIN; the socket stays open. */
async function greetAndLogIn(greeting: string, user: string, pass: string) {
  const socket = net.connect(listener.port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
  socket.on('error', () => undefined);
  const waitFor = async (re: RegExp, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!re.test(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor(/^220 /m);
  socket.write(`${greeting}\r\n`);
  await waitFor(/^250 /m);
  socket.write(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}\r\n`);
  await waitFor(/^235 /m);
  return { socket, waitFor, text: () => text };
}

/** The row other instances read, once the registry flushed it (about once a second). */
async function rowClientName(userId: number, expected: string): Promise<string | null | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const name = (await listSessionRows(ctx.db, userId))[0]?.clientName;
    if (name === expected || Date.now() > deadline) return name;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The login notice the sink received for `address` (the text part, quoted-printable decoded). */
async function noticeTo(address: string): Promise<string> {
  await settleLoginNotices(ctx);
  const deadline = Date.now() + 5000;
  for (;;) {
    const mail = sink.messages.find((m) => m.to.includes(address));
    if (mail) return mail.body.toString('utf8').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (Date.now() > deadline) throw new Error(`no notice to ${address}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SMTP EHLO name', () => {
  it('a real mail client (nodemailer) sending with an app password: the name reaches the login and its notice', async () => {
    const u = await newUser('ehlo');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: listener.port,
      secure: false,
      name: 'Desk-PC.example',
      auth: { user: u.username, pass: u.app.secret },
      connectionTimeout: 5000,
      socketTimeout: 10_000,
    });
    await transport.sendMail({ envelope: { from: u.address, to: ['friend@elsewhere.test'] }, raw: rawMessage(u.address, 'friend@elsewhere.test', 'hello') });
    transport.close();
    await settleLoginNotices(ctx);
    const seen = await ctx.db.select({ client: loginSeenClients.client }).from(loginSeenClients).where(eq(loginSeenClients.loginId, u.app.login.id));
    // smtp-server keeps the name lower-cased.
    expect(seen.map((r) => r.client)).toEqual(['desk-pc.example']);
    const notice = await noticeTo(u.address);
    expect(notice).toContain('Client: desk-pc.example');
    expect(notice).toContain('Service: SMTP (sending mail)');
  });

  it('names a held session in the live-session list, here and in the rows other instances read', async () => {
    const u = await newUser('ehlol');
    const c = await greetAndLogIn('EHLO laptop.example', u.username, u.app.secret);
    const sessions = await listSessions(ctx, u.id);
    expect(sessions.map((s) => [s.protocol, s.clientName])).toEqual([['smtp', 'laptop.example']]);
    expect(await rowClientName(u.id, 'laptop.example')).toBe('laptop.example');

    // A second EHLO after AUTH (allowed: it resets the transaction, not the login) names it at the next MAIL FROM.
    let before = c.text().length;
    c.socket.write('EHLO renamed.example\r\n');
    await waitUntil(async () => /^250 /m.test(c.text().slice(before)));
    before = c.text().length;
    c.socket.write(`MAIL FROM:<${u.address}>\r\n`);
    await waitUntil(async () => /^250 /m.test(c.text().slice(before)));
    expect((await listSessions(ctx, u.id))[0]?.clientName).toBe('renamed.example');
    expect(await rowClientName(u.id, 'renamed.example')).toBe('renamed.example');
    c.socket.destroy();
  });

  it('keeps at most 80 printable characters of a HELO name; bad UTF-8 is dropped, not shown', async () => {
    const u = await newUser('ehlom');
    const long = await greetAndLogIn(`HELO ${'x'.repeat(200)}`, u.username, u.app.secret);
    expect((await listSessions(ctx, u.id))[0]?.clientName).toBe('x'.repeat(80));
    long.socket.destroy();
    await waitUntil(async () => (await listSessions(ctx, u.id)).length === 0);

    const socket = net.connect(listener.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    await waitUntil(async () => /^220 /m.test(text));
    // "kiosk" followed by a byte that is not UTF-8: decoded as U+FFFD, which names nothing.
    socket.write(Buffer.concat([Buffer.from('EHLO kiosk'), Buffer.from([0xff]), Buffer.from('.example\r\n')]));
    await waitUntil(async () => /^250 /m.test(text));
    socket.write(`AUTH PLAIN ${Buffer.from(`\0${u.username}\0${u.app.secret}`).toString('base64')}\r\n`);
    await waitUntil(async () => /^235 /m.test(text));
    expect((await listSessions(ctx, u.id))[0]?.clientName).toBe('kiosk.example');
    socket.destroy();
  });
});

async function waitUntil(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
