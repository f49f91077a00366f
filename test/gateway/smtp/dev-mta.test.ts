/**
 * The dev stack without UPSTREAM_SMTP: mail submitted to Postern is delivered by the dev MTA into the
 * test Dovecot, in the INBOX of each recipient who is a Postern user, and read back from the store directly.
 * The whole path is real: nodemailer → submission listener (accounts core) → dev MTA → IMAP APPEND.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMailboxesOwning } from '../../../src/accounts/addresses.js';
import { startDevMta, type DevMta } from '../../../src/upstream/dev-mta.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { storeClient } from '../../helpers/mailstore.js';
import { createSender, mailClient, rawMessage, sendError } from './fixtures.js';

let ctx: TestContext;
let mta: DevMta;
let listener: RunningSubmission;
// Mailbox names unique to this run: the Dovecot is shared by every test file.
const tag = crypto.randomBytes(3).toString('hex');
const ivy = { user: `ivy${tag}`, pass: 'ivy-main-password', email: `ivy.${tag}@demo.test` };
const jon = { user: `jon${tag}`, pass: 'jon-main-password', email: `jon.${tag}@demo.test` };

beforeAll(async () => {
  ctx = await createTestContext();
  await createSender(ctx, ivy.user, ivy.pass, ivy.email);
  await createSender(ctx, jon.user, jon.pass, jon.email);
  mta = await startDevMta(ctx);
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, upstream: mta, closeTimeoutMs: 200 });
});

afterAll(async () => {
  await listener?.close();
  await mta?.close();
  await ctx?.close();
});

async function inboxSubjects(mailbox: string): Promise<string[]> {
  const c = await storeClient(mailbox);
  try {
    const lock = await c.getMailboxLock('INBOX', { readOnly: true });
    try {
      const subjects: string[] = [];
      if (c.mailbox && c.mailbox.exists) for await (const m of c.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
      return subjects;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

describe('dev MTA', () => {
  it("delivers a submitted message into each local recipient's INBOX and drops the rest", async () => {
    const subject = `Hello ${tag}`;
    await mailClient({ port: listener.port, user: ivy.user, pass: ivy.pass }).sendMail({
      envelope: { from: ivy.email, to: [ivy.email, jon.email.toUpperCase(), 'stranger@nowhere.test'] },
      raw: rawMessage(ivy.email, jon.email, 'Delivered by the dev MTA.\r\n', subject),
    });
    expect(await inboxSubjects(ivy.user)).toContain(subject);
    expect(await inboxSubjects(jon.user)).toContain(subject);
  });

  it('keeps the message intact in the store, with the sender as Return-Path', async () => {
    const subject = `Body ${tag}`;
    const raw = rawMessage(jon.email, ivy.email, 'First line\r\n.starts with a dot\r\nLast line\r\n', subject);
    await mailClient({ port: listener.port, user: jon.user, pass: jon.pass }).sendMail({ envelope: { from: jon.email, to: [ivy.email] }, raw });
    const c = await storeClient(ivy.user);
    try {
      const lock = await c.getMailboxLock('INBOX', { readOnly: true });
      try {
        const uids = await c.search({ subject }, { uid: true });
        const msg = await c.fetchOne(String((uids || []).at(-1)), { source: true }, { uid: true });
        const source = msg && msg.source ? msg.source.toString('utf8') : '';
        expect(source.startsWith(`Return-Path: <${jon.email}>\r\nReceived: `)).toBe(true);
        expect(source.endsWith(raw)).toBe(true);
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
  });

  it('maps an address to the mailbox of the user who owns it, ignoring case, and nobody else', async () => {
    expect(await findMailboxesOwning(ctx, ivy.email.toUpperCase())).toEqual([ivy.user]);
    expect(await findMailboxesOwning(ctx, 'stranger@nowhere.test')).toEqual([]);
  });

  it('answers 451 when the store cannot take the message, so nothing is lost', async () => {
    const broken = await startDevMta({ ...ctx, config: { ...ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port: 1 } } });
    const l = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, upstream: broken, closeTimeoutMs: 200 });
    try {
      const err = await sendError(
        mailClient({ port: l.port, user: ivy.user, pass: ivy.pass }).sendMail({ envelope: { from: ivy.email, to: [jon.email] }, raw: rawMessage(ivy.email, jon.email, 'x\r\n') }),
      );
      expect(err.responseCode).toBe(451);
    } finally {
      await l.close();
      await broken.close();
    }
  });
});
