/**
 * What a mail client is told for each authentication outcome. The accounts core is replaced by a scripted
 * authenticator here, because throttling, an SMS provider outage or a crash are slow or awkward to cause
 * for real; submission.test.ts covers the real core.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuthRequest, AuthResult } from '../../../src/auth/types.js';
import { startSubmissionListener, type RunningSubmission } from '../../../gateway/smtp/submission.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender, mailClient, rawMessage, sendError } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;
let userId: number;
let next: (req: AuthRequest) => Promise<AuthResult>;
const seen: AuthRequest[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  userId = (await createSender(ctx, 'fay', 'fay-main-password', 'fay@example.test')).id;
  sink = await startSmtpSink();
  listener = await startSubmissionListener(
    ctx,
    { host: '127.0.0.1', port: 0, upstream: { host: sink.host, port: sink.port }, closeTimeoutMs: 200 },
    async (_ctx, req) => {
      seen.push(req);
      return next(req);
    },
  );
});

beforeEach(() => {
  seen.length = 0;
  sink.messages.length = 0;
});

afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

const ok = (): AuthResult => ({ ok: true, userId, username: 'fay', upstreamUser: 'fay', loginId: null, method: 'main', restricted: false });

function submit(user = 'fay', pass = 'secret-typed-by-fay') {
  return mailClient({ port: listener.port, user, pass, name: 'fay-laptop.example' }).sendMail({
    envelope: { from: 'fay@example.test', to: ['x@elsewhere.test'] },
    raw: rawMessage('fay@example.test', 'x@elsewhere.test', 'hi\r\n'),
  });
}

describe('authentication replies', () => {
  it('asks authenticate about service smtp with the client address, its EHLO name and the secret as typed', async () => {
    next = async () => ok();
    await submit('Fay', 'pass word 123456');
    expect(seen).toEqual([{ username: 'Fay', secret: 'pass word 123456', service: 'smtp', ip: '127.0.0.1', client: 'fay-laptop.example' }]);
  });

  it('tells an SMS-password login where the code went and to log in again with password+code', async () => {
    next = async () => ({ ok: false, reason: 'sms-required', challengeId: 1, sentToHint: '42', expiresAt: new Date(Date.now() + 600_000), resendAfterSeconds: 60 });
    const err = await sendError(submit());
    expect(err.responseCode).toBe(535);
    expect(err.response).toContain('•••• ••42');
    expect(err.response).toMatch(/SMS password immediately followed by the code/);
    expect(sink.messages).toHaveLength(0);
  });

  it('answers throttling with a temporary 454 4.7.0 and a retry hint', async () => {
    next = async () => ({ ok: false, reason: 'throttled', retryAfterSeconds: 17 });
    const err = await sendError(submit());
    expect(err.response).toMatch(/^454 4\.7\.0 .*17 seconds/);
  });

  it('passes on why no SMS code could be sent, temporary when it may clear by itself', async () => {
    next = async () => ({ ok: false, reason: 'sms-unavailable', code: 'SMS_NO_CREDITS', message: 'There are no SMS credits left to send your code.' });
    expect((await sendError(submit())).response).toBe('535 5.7.8 There are no SMS credits left to send your code.');
    next = async () => ({ ok: false, reason: 'sms-unavailable', code: 'SMS_PROVIDER_DOWN', message: 'The SMS could not be sent right now.' });
    expect((await sendError(submit())).response).toBe('454 4.7.0 The SMS could not be sent right now.');
  });

  it('answers a crash in the accounts core with a temporary failure, not a crash of the listener', async () => {
    next = async () => {
      throw new Error('database went away: password=hunter2');
    };
    const err = await sendError(submit());
    expect(err.response).toMatch(/^454 4\.7\.0 /);
    expect(err.response).not.toContain('hunter2');
    next = async () => ok();
    await submit();
    expect(await sink.waitForMessages(1)).toHaveLength(1);
  });

  it('refuses AUTH PLAIN that asks to act as another user (authzid ≠ authcid) without asking the core', async () => {
    next = async () => ok();
    const token = Buffer.from('mallory\0fay\0secret-typed-by-fay').toString('base64');
    const reply = await rawAuth(listener.port, `AUTH PLAIN ${token}`);
    expect(reply).toMatch(/^535 5\.7\.8 /);
    expect(seen).toHaveLength(0);
  });

  it('closes a connection after three wrong logins, so guessing has to reconnect', async () => {
    next = async () => ({ ok: false, reason: 'failed' });
    const net = await import('node:net');
    const socket = net.connect(listener.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const closed = new Promise((r) => socket.once('close', r));
    const token = Buffer.from('\0fay\0guess').toString('base64');
    await new Promise((r) => socket.once('data', r)); // the greeting: talking before it gets a 421 of its own
    socket.write(`EHLO t\r\n`);
    for (let i = 0; i < 4; i++) socket.write(`AUTH PLAIN ${token}\r\n`);
    await closed;
    expect(text.match(/^535 /gm)).toHaveLength(2);
    expect(text).toMatch(/^421 4\.7\.0 /m);
    expect(seen).toHaveLength(3);
  });

  it('offers only PLAIN and LOGIN', async () => {
    const ehlo = await rawAuth(listener.port, 'EHLO t');
    expect(ehlo).toMatch(/AUTH PLAIN LOGIN\r?$/m);
    expect(await rawAuth(listener.port, 'AUTH CRAM-MD5')).toMatch(/^504 /);
  });
});

/** Connects, sends EHLO (unless the line is EHLO) and `line`; returns the reply to `line`. */
async function rawAuth(port: number, line: string): Promise<string> {
  const net = await import('node:net');
  const socket = net.connect(port, '127.0.0.1');
  let buf = '';
  const waitReply = () =>
    new Promise<string>((resolve) => {
      const onData = (d: Buffer) => {
        buf += d.toString('utf8');
        if (/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(buf)) {
          socket.off('data', onData);
          const r = buf;
          buf = '';
          resolve(r);
        }
      };
      socket.on('data', onData);
    });
  await waitReply();
  if (line !== 'EHLO t') {
    const r = waitReply();
    socket.write('EHLO t\r\n');
    await r;
  }
  const r = waitReply();
  socket.write(line + '\r\n');
  const reply = await r;
  socket.destroy();
  return reply.trimEnd();
}
