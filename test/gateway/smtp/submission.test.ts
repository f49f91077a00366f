/**
 * End to end through the real accounts core: nodemailer submits to startSmtpSubmission, which relays to
 * the SMTP sink. Which logins may send, and that a refused login relays nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAppPassword, createOneTimeList, createUserChosenLogin, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { disableUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { grantPersonalCredits, lastSmsCode } from '../../src/auth/fixtures.js';
import { createUser } from '../../../src/accounts/users.js';
import { createSender, mailClient, rawMessage, sendError } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;
let dana: { id: number };
const DANA = { user: 'dana', pass: 'dana-main-password', email: 'dana@example.test' };

beforeAll(async () => {
  sink = await startSmtpSink({ usersMailOnly: true });
  ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}` } });
  dana = await createSender(ctx, DANA.user, DANA.pass, DANA.email);
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, closeTimeoutMs: 200 });
});

beforeEach(() => {
  sink.messages.length = 0;
});

afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

function send(pass: string, body = 'Hello from the café.\r\n', method?: 'PLAIN' | 'LOGIN') {
  const raw = rawMessage(DANA.email, 'friend@elsewhere.test', body);
  return mailClient({ port: listener.port, user: DANA.user, pass, method })
    .sendMail({ envelope: { from: DANA.email, to: ['friend@elsewhere.test'] }, raw })
    .then(() => raw);
}

describe('sending with each kind of login', () => {
  it('delivers a message sent with the main password to the upstream, body intact', async () => {
    const raw = await send(DANA.pass, 'Line 1\r\n.dot line\r\nLine 3\r\n');
    const [m] = await sink.waitForMessages(1);
    expect(m!.from).toBe(DANA.email);
    expect(m!.to).toEqual(['friend@elsewhere.test']);
    expect(m!.body.toString('utf8').endsWith(raw)).toBe(true);
  });

  it('accepts AUTH LOGIN as well as AUTH PLAIN', async () => {
    await send(DANA.pass, 'via LOGIN\r\n', 'LOGIN');
    expect(await sink.waitForMessages(1)).toHaveLength(1);
  });

  it('refuses a wrong password with 535 5.7.8 and relays nothing', async () => {
    const err = await sendError(send('not-the-password'));
    expect(err.response).toBe('535 5.7.8 Authentication credentials invalid');
    expect(sink.messages).toHaveLength(0);
  });

  it('refuses an unknown user with exactly the same reply as a wrong password', async () => {
    const err = await sendError(
      mailClient({ port: listener.port, user: 'nobody-here', pass: 'whatever-pass' }).sendMail({ envelope: { from: DANA.email, to: ['x@y.test'] }, raw: 'x' }),
    );
    expect(err.response).toBe('535 5.7.8 Authentication credentials invalid');
  });

  it('sends with an app password', async () => {
    const { secret } = await createAppPassword(ctx, { userId: dana.id, label: 'phone' });
    await send(secret);
    expect(await sink.waitForMessages(1)).toHaveLength(1);
  });

  it('lets a restricted login send: sending cannot delete or damage mail already stored', async () => {
    const { secret } = await createAppPassword(ctx, { userId: dana.id, label: 'kiosk', restricted: true });
    await send(secret);
    expect(await sink.waitForMessages(1)).toHaveLength(1);
    const [event] = await listAuditEvents(ctx.db, { userId: dana.id, events: ['login.succeeded'], limit: 1 });
    expect(event).toMatchObject({ service: 'smtp' });
  });

  it('sends with an alternate password', async () => {
    await createUserChosenLogin(ctx, { userId: dana.id, kind: 'password', secret: 'dana-alternate-pw', label: 'alt' });
    await send('dana-alternate-pw');
    expect(await sink.waitForMessages(1)).toHaveLength(1);
  });

  it('refuses a login that is not allowed for SMTP', async () => {
    const { secret } = await createAppPassword(ctx, { userId: dana.id, label: 'imap only', services: ['imap'] });
    expect((await sendError(send(secret))).responseCode).toBe(535);
    expect(sink.messages).toHaveLength(0);
  });

  it('takes a one-time code once when the list is allowed for SMTP, and refuses it the second time', async () => {
    const { codes } = await createOneTimeList(ctx, { userId: dana.id, count: 3, services: ['smtp'] });
    await send(codes[0]!.code);
    expect(await sink.waitForMessages(1)).toHaveLength(1);
    expect((await sendError(send(codes[0]!.code))).responseCode).toBe(535);
  });

  it('refuses a revoked app password at once, though it was just used', async () => {
    const { login, secret } = await createAppPassword(ctx, { userId: dana.id, label: 'lost phone' });
    await send(secret);
    await revokeAltLogin(ctx, { loginId: login.id });
    expect((await sendError(send(secret))).responseCode).toBe(535);
    expect(sink.messages).toHaveLength(1);
  });

  it('never writes the password into the relayed message or the audit log', async () => {
    await send(DANA.pass);
    const [m] = await sink.waitForMessages(1);
    expect(m!.body.toString('utf8')).not.toContain(DANA.pass);
    const events = await listAuditEvents(ctx.db, { userId: dana.id, limit: 100 });
    expect(JSON.stringify(events)).not.toContain(DANA.pass);
  });
});

describe('SMS password from a mail client', () => {
  it('sends the code and says where on the first try; password immediately followed by the code then sends', async () => {
    const kim = await createUser(ctx, { username: 'kim', password: 'kim-main-password', email: 'kim@example.test', mobile: '+447911123456' });
    await createUserChosenLogin(ctx, { userId: kim.id, kind: 'sms', secret: 'kim-sms-password', restricted: true });
    await grantPersonalCredits(ctx, kim.id, 5);
    const client = (pass: string) =>
      mailClient({ port: listener.port, user: 'kim', pass }).sendMail({
        envelope: { from: 'kim@example.test', to: ['friend@elsewhere.test'] },
        raw: rawMessage('kim@example.test', 'friend@elsewhere.test', 'sent with an SMS code\r\n'),
      });
    const err = await sendError(client('kim-sms-password'));
    expect(err.responseCode).toBe(535);
    expect(err.response).toContain('•••• ••56');
    expect(err.response).toMatch(/SMS password immediately followed by the code/);
    expect(sink.messages).toHaveLength(0);
    await client(`kim-sms-password${await lastSmsCode(ctx)}`);
    expect((await sink.waitForMessages(1))[0]!.from).toBe('kim@example.test');
  });
});

describe('accounts that may not send', () => {
  it('refuses a disabled account like a wrong password', async () => {
    const eve = await createSender(ctx, 'eve', 'eve-main-password', 'eve@example.test');
    await disableUser(ctx, eve.id);
    const err = await sendError(
      mailClient({ port: listener.port, user: 'eve', pass: 'eve-main-password' }).sendMail({ envelope: { from: 'eve@example.test', to: ['x@y.test'] }, raw: 'x' }),
    );
    expect(err.response).toBe('535 5.7.8 Authentication credentials invalid');
  });
});
