/**
 * Issue 11 item 1 for submission: a thief holding an authenticated SMTP connection (to send as the owner
 * later) loses it when the owner revokes the login, on another instance too: `421 4.7.0` within a
 * second and the close; nothing the client sends after it is accepted or relayed.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { createContext, type AppContext } from '../../../src/context.js';
import { openDatabase, type Database } from '../../../src/db/client.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender } from './fixtures.js';

let ctx: TestContext;
let other: AppContext;
let otherDb: Database | null = null;
let sink: SmtpSink;
let listener: RunningSubmission;

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}` } });
  otherDb = ctx.testDb.url ? await openDatabase({ url: ctx.testDb.url, max: 4 }) : null;
  other = await createContext(ctx.config, { database: otherDb ?? ctx.database, secretKey: ctx.secretKey });
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, closeTimeoutMs: 200 });
});
afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await other?.liveSessions.close();
  await otherDb?.close();
  await ctx?.close();
});

/** A raw SMTP client: EHLO and AUTH PLAIN, then whatever the test sends. */
async function authenticated(user: string, pass: string) {
  const socket = net.connect(listener.port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  const waitFor = async (re: RegExp, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!re.test(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor(/^220 /m);
  socket.write('EHLO thief.example\r\n');
  await waitFor(/^250 /m);
  socket.write(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}\r\n`);
  await waitFor(/^235 /m);
  return { socket, waitFor, text: () => text, closed: () => closed };
}

describe('a revoked login ends its open SMTP sessions', () => {
  it('revoking the app password on another instance answers 421 within a second and closes; no mail goes out', async () => {
    const user = await createSender(ctx, 'smtpthief', 'smtp-main-password', 'owner@example.test');
    const app = await createAppPassword(ctx, { userId: user.id, services: ['smtp'] });
    const c = await authenticated('smtpthief', app.secret);
    const t0 = Date.now();
    await revokeAltLogin(other, { loginId: app.login.id });
    await c.waitFor(/^421 4\.7\.0 [^\r]*revoked/m);
    expect(Date.now() - t0).toBeLessThan(1000);
    c.socket.write('MAIL FROM:<owner@example.test>\r\nRCPT TO:<victim@elsewhere.test>\r\nDATA\r\n');
    const deadline = Date.now() + 2000;
    while (!c.closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(c.closed()).toBe(true);
    expect(c.text()).not.toMatch(/^354 /m);
    expect(sink.messages).toEqual([]);
  });
});
