// SMTP submission with an authenticator-app login: the password immediately followed by the app's code
// sends; the same code on the next connection, and the password alone, are refused and relay nothing.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTotpLogin } from '../../../src/accounts/alt-logins.js';
import { totpCode } from '../../../src/auth/totp.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender, mailClient, rawMessage, sendError } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;

beforeAll(async () => {
  sink = await startSmtpSink({ usersMailOnly: true });
  ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}` } });
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, closeTimeoutMs: 200 });
});
afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

describe('authenticator app from a mail client (SMTP)', () => {
  it('password + code sends once; the same code again and the password alone get 535', async () => {
    const user = await createSender(ctx, 'tara', 'tara-main-password', 'tara@example.test');
    const secret = crypto.randomBytes(20);
    await createTotpLogin(ctx, { userId: user.id, secret: 'tara-app-password', totpSecret: secret });
    const send = (pass: string) =>
      mailClient({ port: listener.port, user: 'tara', pass }).sendMail({
        envelope: { from: 'tara@example.test', to: ['friend@elsewhere.test'] },
        raw: rawMessage('tara@example.test', 'friend@elsewhere.test', 'sent with an app code\r\n'),
      });
    const code = totpCode(secret, new Date());
    await send(`tara-app-password${code}`);
    expect((await sink.waitForMessages(1))[0]!.from).toBe('tara@example.test');
    expect((await sendError(send(`tara-app-password${code}`))).responseCode).toBe(535);
    expect((await sendError(send('tara-app-password'))).responseCode).toBe(535);
    expect(sink.messages).toHaveLength(1);
  });
});
