/**
 * A hijacked restricted session must not fill the owner's quota or the store's disk (issue 11 §5):
 * APPEND and COPY draw on a per-session and per-day byte budget (src/restricted/budget.ts), against
 * the real Dovecot with the store backstop off (the full master), and the store's size stays bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningImapGateway, startImapGateway } from '../../../gateway/imap/server.js';
import { listAuditEvents } from '../../../src/audit.js';
import { eq } from 'drizzle-orm';
import { restrictedBudget } from '../../../src/db/schema.js';
import { storeClient } from '../../helpers/mailstore.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

const MiB = 1024 * 1024;
let live: LiveGateway;

beforeAll(async () => {
  live = await startLiveGateway();
});
afterAll(() => live.close());

/** A gateway logging restricted sessions in as the full master, with these budgets. */
async function withGateway<T>(sessionBytes: number, dailyBytes: number, run: (g: RunningImapGateway) => Promise<T>): Promise<T> {
  const config = {
    ...live.ctx.config,
    UPSTREAM_RESTRICTED_MASTER_USER: undefined,
    UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined,
    RESTRICTED_SESSION_BYTES: sessionBytes,
    RESTRICTED_DAILY_BYTES: dailyBytes,
  };
  const gateway = await startImapGateway({ ...live.ctx, config }, { host: '127.0.0.1', port: 0 });
  try {
    return await run(gateway);
  } finally {
    await gateway.close();
  }
}

/** A message of about `bytes` bytes, in short lines. */
function bigMessage(bytes: number, n = 1): string {
  const line = `${'x'.repeat(76)}\r\n`;
  return `Subject: big ${n}\r\n\r\n${line.repeat(Math.ceil(bytes / line.length))}`;
}

async function storeBytes(user: MailUser): Promise<{ count: number; bytes: number }> {
  const c = await storeClient(user.username);
  try {
    const lock = await c.getMailboxLock('INBOX', { readOnly: true });
    let count = 0;
    let bytes = 0;
    try {
      for await (const m of c.fetch('1:*', { size: true })) {
        count++;
        bytes += m.size ?? 0;
      }
    } finally {
      lock.release();
    }
    return { count, bytes };
  } finally {
    await c.logout();
  }
}

/** Bytes the user's logins are charged in the day's budget (the database, read directly). */
async function chargedToday(user: MailUser): Promise<number> {
  const rows = await live.ctx.db.select({ bytes: restrictedBudget.bytes }).from(restrictedBudget).where(eq(restrictedBudget.userId, user.userId));
  return rows.reduce((sum, row) => sum + row.bytes, 0);
}

async function restricted(port: number, user: MailUser): Promise<RawClient> {
  const c = await RawClient.connect(port);
  expect(await c.login(user.username, user.restrictedApp)).toMatch(/^L1 OK .*restricted/);
  expect(await c.command('s', 'SELECT INBOX')).toMatch(/^s OK/);
  return c;
}

async function append(c: RawClient, tag: string, message: string): Promise<string> {
  c.send(`${tag} APPEND INBOX {${Buffer.byteLength(message)}}\r\n`);
  const answer = await c.waitFor(new RegExp(`^(\\+ |${tag} (NO|BAD|OK)[^\\r]*)`));
  if (!answer[0].startsWith('+')) return answer[0];
  c.text = c.text.replace(/^\+ [^\r]*\r\n/m, '');
  c.send(`${message}\r\n`);
  return c.tagged(tag);
}

describe('restricted byte budget', () => {
  it('stops four COPY 1:* of a 1 MiB message and the APPENDs after them at the session budget', async () => {
    const user = await createMailUser(live.ctx, 'bud');
    const seed = await storeClient(user.username);
    await seed.append('INBOX', bigMessage(MiB));
    await seed.logout();
    const one = (await storeBytes(user)).bytes;
    await withGateway(10 * MiB, 50 * MiB, async (gateway) => {
      const c = await restricted(gateway.port, user);
      // 1, 2, then 4 messages copied: 7 MiB of 10. Doubling again (8 MiB) would pass the budget.
      expect(await c.command('c1', 'COPY 1:* INBOX')).toMatch(/^c1 OK/);
      expect(await c.command('c2', 'COPY 1:* INBOX')).toMatch(/^c2 OK/);
      expect(await c.command('c3', 'UID COPY 1:* INBOX')).toMatch(/^c3 OK/);
      expect(await c.command('c4', 'COPY 1:* INBOX')).toMatch(/^c4 NO \[OVERQUOTA\] Restricted login: This session may not add more mail now/);
      // The client saw no FETCH it did not ask for.
      expect(c.text).not.toMatch(/RFC822\.SIZE/);
      const answers: string[] = [];
      for (let i = 0; i < 6; i++) answers.push(await append(c, `a${i}`, bigMessage(MiB, i)));
      expect(answers.slice(0, 2)).toEqual([expect.stringMatching(/^a0 OK/), expect.stringMatching(/^a1 OK/)]);
      expect(answers.slice(3)).toEqual([0, 1, 2].map(() => expect.stringMatching(/ NO \[OVERQUOTA\]/)));
      c.close();
    });
    const after = await storeBytes(user);
    expect(after.bytes).toBeLessThanOrEqual(one + 10 * MiB);
    expect(after.count).toBeLessThanOrEqual(8 + 3);
    // Four or five refusals, one audit row.
    const rows = () => listAuditEvents(live.ctx.db, { userId: user.userId, events: ['imap.command-blocked'] });
    await expect.poll(async () => (await rows()).length).toBe(1);
    expect((await rows())[0]!.details).toMatchObject({ reason: 'restricted.budget-session', count: expect.any(Number), commands: ['APPEND', 'COPY'] });
  });

  it('counts the day over every session of the login', async () => {
    const user = await createMailUser(live.ctx, 'day');
    await withGateway(3 * MiB, 4 * MiB, async (gateway) => {
      const first = await restricted(gateway.port, user);
      expect(await append(first, 'a1', bigMessage(MiB))).toMatch(/^a1 OK/);
      expect(await append(first, 'a2', bigMessage(MiB))).toMatch(/^a2 OK/);
      expect(await append(first, 'a3', bigMessage(2 * MiB))).toMatch(/^a3 NO \[OVERQUOTA\] Restricted login: This session/);
      first.close();
      const second = await restricted(gateway.port, user);
      expect(await append(second, 'b1', bigMessage(MiB))).toMatch(/^b1 OK/);
      expect(await append(second, 'b2', bigMessage(MiB))).toMatch(/^b2 NO \[OVERQUOTA\] Restricted login: This login may not add more mail today/);
      expect(await second.command('n', 'NOOP')).toMatch(/^n OK/);
      second.close();
      // A full login is not restricted and has no budget.
      const full = await RawClient.connect(gateway.port);
      await full.login(user.username, user.app);
      expect(await append(full, 'f1', bigMessage(MiB))).toMatch(/^f1 OK/);
      full.close();
    });
    expect((await storeBytes(user)).count).toBe(4);
  });

  it('refuses a MULTIAPPEND that goes over the budget, stores none of it and gives its charge back', async () => {
    const user = await createMailUser(live.ctx, 'mab');
    const budget = 64 * 1024;
    // Both limits the same: the APPEND after the refusal fits in either only if both were refunded.
    await withGateway(budget, budget, async (gateway) => {
      const c = await restricted(gateway.port, user);
      const [m1, m2] = [bigMessage(40_000, 1), bigMessage(40_000, 2)];
      c.send(`m1 APPEND INBOX {${Buffer.byteLength(m1)}+}\r\n${m1} (\\Seen) {${Buffer.byteLength(m2)}+}\r\n${m2}\r\n`);
      expect(await c.tagged('m1')).toMatch(/^m1 NO \[OVERQUOTA\] Restricted login: /);
      expect(await c.command('n1', 'NOOP')).toMatch(/^n1 OK/);
      expect(c.closed).toBe(false);
      expect(await storeBytes(user)).toEqual({ count: 0, bytes: 0 });
      // Without the refund 40 000 bytes of the 64 KiB would still be charged, and 50 000 would not fit.
      expect(await chargedToday(user)).toBe(0);
      const m3 = bigMessage(50_000, 3);
      expect(await append(c, 'a1', m3)).toMatch(/^a1 OK/);
      expect(await chargedToday(user)).toBe(Buffer.byteLength(m3));
      expect(await c.command('n2', 'NOOP')).toMatch(/^n2 OK/);
      c.close();
    });
    expect((await storeBytes(user)).count).toBe(1);
  });
});
