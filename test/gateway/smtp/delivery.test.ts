/**
 * Nothing silently lost, and no spam cannon: what the sender's client (nodemailer, swaks, Python's
 * smtplib) is told when the upstream MTA (the SMTP sink) is down or refuses some recipients, the delivery
 * report in the sender's INBOX (read from the real Dovecot), and the sending limits.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { storeClient } from '../../helpers/mailstore.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { mailClient, pythonSend, sendError, swaks } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;
// Mailbox names unique to this run: the Dovecot is shared by every test file.
const tag = crypto.randomBytes(3).toString('hex');
const LIMITS = {
  SEND_MAX_MESSAGES_PER_HOUR: '5',
  SEND_MAX_MESSAGES_PER_HOUR_PER_LOGIN: '4',
  SEND_MAX_MESSAGES_PER_HOUR_RESTRICTED: '2',
  SEND_MAX_RECIPIENTS: '5',
  SEND_MAX_RECIPIENTS_RESTRICTED: '2',
};

async function makeSender(name: string) {
  const user = { user: `${name}${tag}`, pass: `${name}-main-password`, email: `${name}.${tag}@example.test` };
  const row = await createUser(ctx, { username: user.user, password: user.pass, email: user.email });
  return { ...user, id: row.id };
}

beforeAll(async () => {
  sink = await startSmtpSink({ usersMailOnly: true });
  ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}`, ...LIMITS } });
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, closeTimeoutMs: 200 });
});

afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

const raw = (from: string, to = 'carol@elsewhere.test') => `From: <${from}>\r\nTo: <${to}>\r\nSubject: report test ${tag}\r\nMessage-ID: <${crypto.randomUUID()}@x.test>\r\n\r\nbody\r\n`;

async function inbox(mailbox: string): Promise<string[]> {
  const c = await storeClient(mailbox);
  try {
    const lock = await c.getMailboxLock('INBOX', { readOnly: true });
    try {
      const out: string[] = [];
      if (c.mailbox && c.mailbox.exists) for await (const m of c.fetch('1:*', { source: true })) out.push(m.source!.toString());
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

describe('upstream trouble', () => {
  it('answers 451 4.4.1 while the upstream is down (nothing counted), and the retry goes through', async () => {
    const erin = await makeSender('erin');
    const port = sink.port;
    await sink.goDown();
    const send = () => mailClient({ port: listener.port, user: erin.user, pass: erin.pass }).sendMail({ envelope: { from: erin.email, to: ['carol@elsewhere.test'] }, raw: raw(erin.email) });
    for (let i = 0; i < 6; i++) expect((await sendError(send())).response).toMatch(/^451 4\.4\.1 /);
    sink = await startSmtpSink({ port, usersMailOnly: true });
    // Six failed tries above are not six messages: the hourly limit (5) still lets this one through.
    await send();
    expect((await sink.waitForMessages(1))[0]!.from).toBe(erin.email);
  });

  it('puts an RFC 3464 report in the INBOX when the upstream refuses one of three recipients (swaks)', async () => {
    const finn = await makeSender('finn');
    sink.refuseRecipients.add('gone@elsewhere.test');
    const before = sink.messages.length;
    const r = await swaks([
      '--port', String(listener.port), '--auth', 'PLAIN', '--auth-user', finn.user, '--auth-password', finn.pass,
      '--from', finn.email, '--to', 'a@elsewhere.test,gone@elsewhere.test,b@elsewhere.test', '--header', `Subject: report test ${tag}`,
    ]);
    expect(r.output).toMatch(/<- {2}250 2\.0\.0 Accepted for 2 recipient\(s\); refused by the outgoing server: gone@elsewhere\.test \(550\)/);
    expect((await sink.waitForMessages(before + 1)).at(-1)!.to).toEqual(['a@elsewhere.test', 'b@elsewhere.test']);
    const [report] = await inbox(finn.user);
    expect(report).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
    expect(report).toMatch(/Content-Type: message\/delivery-status/);
    expect(report).toMatch(/Final-Recipient: rfc822; gone@elsewhere\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 No such user here/);
    expect(report).toMatch(/Content-Type: text\/rfc822-headers[\s\S]*Subject: report test/);
    expect(report).toMatch(/Auto-Submitted: auto-replied/);
    expect(report).not.toMatch(/a@elsewhere\.test: /);
    sink.refuseRecipients.clear();
  });
});

describe('sending limits', () => {
  it('caps recipients per message, lower for a restricted login, with 452 4.5.3 (Python smtplib)', async () => {
    const gail = await makeSender('gail');
    const { secret } = await createAppPassword(ctx, { userId: gail.id, label: 'kiosk', restricted: true });
    const three = ['a@elsewhere.test', 'b@elsewhere.test', 'c@elsewhere.test'];
    const restricted = await pythonSend({ port: listener.port, user: gail.user, pass: secret, from: gail.email, to: three, message: raw(gail.email) });
    expect(JSON.parse(restricted.output.slice(3))).toEqual({ 'c@elsewhere.test': [452, '4.5.3 Too many recipients; at most 2 per message from this login'] });
    const six = [...three, 'd@elsewhere.test', 'e@elsewhere.test', 'f@elsewhere.test'];
    const main = await pythonSend({ port: listener.port, user: gail.user, pass: gail.pass, from: gail.email, to: six, message: raw(gail.email) });
    expect(JSON.parse(main.output.slice(3))).toEqual({ 'f@elsewhere.test': [452, '4.5.3 Too many recipients; at most 5 per message from this login'] });
    const relayed = sink.messages.slice(-2).map((m) => m.to.length);
    expect(relayed).toEqual([2, 5]);
  });

  it('stops a restricted login after its hourly quota with 451 4.7.0, and the account after its own', async () => {
    const hank = await makeSender('hank');
    const { secret } = await createAppPassword(ctx, { userId: hank.id, label: 'phone', restricted: true });
    const send = (pass: string) =>
      mailClient({ port: listener.port, user: hank.user, pass }).sendMail({ envelope: { from: hank.email, to: ['carol@elsewhere.test'] }, raw: raw(hank.email) });
    await send(secret);
    await send(secret);
    const err = await sendError(send(secret));
    expect(err.response).toBe('451 4.7.0 Sending limit reached: at most 2 messages an hour from this login; the message was not sent, try again later');
    // The main password is another login: 3 more make the account's 5, then the account is full.
    for (let i = 0; i < 3; i++) await send(hank.pass);
    expect((await sendError(send(hank.pass))).response).toMatch(/^451 4\.7\.0 Sending limit reached: at most 5 messages an hour from this account/);
    const refused = await listAuditEvents(ctx.db, { userId: hank.id, events: ['mail.refused'] });
    expect(refused.map((e) => e.details.code)).toEqual(['SEND_RATE_LIMITED', 'SEND_RATE_LIMITED']);
  });
});
