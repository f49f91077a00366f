/**
 * Login notices survive a failing outgoing MTA (issue 16): a notice the MTA defers is tried again after
 * each configured delay and arrives exactly once, with links that work; after the last try it is given up
 * with one coded log line that names no address and no link; a notice left pending by a restart goes out
 * from the next process; and two instances on one PostgreSQL database never send the same notice twice.
 * A local smtp-server (test/helpers/smtp-sink.ts) plays the MTA; the retry delays are milliseconds here.
 */
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { eq, inArray, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppPassword } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createContext, type AppContext } from '../../../src/context.js';
import { openDatabase, type Database } from '../../../src/db/client.js';
import { loginNotices } from '../../../src/db/schema.js';
import { checkNoticeLink, deliverDueNotices, sendDueNotices, settleLoginNotices, startNoticeSweeper } from '../../../src/notices/index.js';
import { createTestContext } from '../../helpers/context.js';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../helpers/smtp-sink.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every log line the context writes, parsed. */
function captureLogs(ctx: AppContext): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, next) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      next();
    },
  });
  ctx.log = pino({ level: 'info' }, stream);
  return lines;
}

async function setUp(retryDelays: string, options: { forcePostgres?: boolean } = {}) {
  const sink = await startSmtpSink();
  cleanups.push(() => sink.close());
  const ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}`, LOGIN_NOTICE_RETRY_DELAYS: retryDelays }, forcePostgres: options.forcePostgres });
  cleanups.push(() => ctx.close());
  const logs = captureLogs(ctx);
  return { sink, ctx, logs };
}

/** A user with a proven default address and an app password, whose first use notifies. */
async function appUser(ctx: AppContext, prefix: string) {
  const username = `${prefix}${crypto.randomBytes(4).toString('hex')}`;
  const user = await createUser(ctx, { username, password: 'main password 1', email: `${username}@example.test`, addressesProven: true });
  const app = await createAppPassword(ctx, { userId: user.id, services: ['imap'], label: `${prefix} phone` });
  return { username, id: user.id, address: `${username}@example.test`, app };
}

async function useApp(ctx: AppContext, u: Awaited<ReturnType<typeof appUser>>, ip = '203.0.113.20') {
  expect(await authenticate(ctx, { username: u.username, secret: u.app.secret, service: 'imap', ip, client: 'Thunderbird 128' })).toMatchObject({ ok: true });
  await settleLoginNotices(ctx);
}

function to(sink: SmtpSink, address: string): SinkMessage[] {
  return sink.messages.filter((m) => m.to.includes(address));
}

function noticeRows(ctx: AppContext, userId: number) {
  return ctx.db.select().from(loginNotices).where(eq(loginNotices.userId, userId));
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The text part, quoted-printable decoded. */
function decoded(m: SinkMessage): string {
  return m.body.toString('utf8').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

describe('login notices and a failing MTA', () => {
  it('the MTA defers the first two tries, then accepts: the notice arrives exactly once, and its links work', async () => {
    const { sink, ctx, logs } = await setUp('30ms,60ms,60ms');
    const u = await appUser(ctx, 'rtry');
    sink.deferNext = 2;
    await useApp(ctx, u);
    // The login answered; its first try was deferred and the notice waits.
    expect(sink.deferred).toBe(1);
    expect(to(sink, u.address)).toEqual([]);
    const sweeper = startNoticeSweeper(ctx, 1000);
    cleanups.push(() => sweeper.stop());

    await until(() => to(sink, u.address).length > 0);
    await sleep(300);
    expect(to(sink, u.address)).toHaveLength(1);
    expect(sink.deferred).toBe(2);
    const [row] = await noticeRows(ctx, u.id);
    expect(row).toMatchObject({ attempts: 3, nextAttemptAt: null, gaveUpAt: null });
    expect(row!.sentAt).not.toBeNull();
    expect(logs.filter((l) => l.code === 'LOGIN_NOTICE_NOT_SENT').map((l) => [l.attempt, l.reason])).toEqual([
      [1, 'SEND_UPSTREAM_DEFERRED'],
      [2, 'SEND_UPSTREAM_DEFERRED'],
    ]);
    expect(await listAuditEvents(ctx.db, { userId: u.id, events: ['login.notice-sent'] })).toHaveLength(1);

    // The delivered mail's links are the live ones (each try drew its own), and "This was me" answers it.
    const body = decoded(to(sink, u.address)[0]!);
    expect(body).toContain('Client: Thunderbird 128');
    const token = new URL(/https?:\/\/\S+\/login-notice\?t=\S+\.mine\.\S+/.exec(body)![0]).searchParams.get('t')!;
    expect(await checkNoticeLink(ctx, token)).toMatchObject({ ok: true, notice: { noticeId: row!.id, uses: 1 } });
  });

  it('uses while a notice is still being tried wait for it: one mail per hour, the next one summarises them', async () => {
    const { sink, ctx } = await setUp(Array(20).fill('200ms').join(','));
    const u = await appUser(ctx, 'hour');
    sink.dataReply = 'defer';
    await useApp(ctx, u, '203.0.113.21');
    await useApp(ctx, u, '203.0.113.22');
    await useApp(ctx, u, '203.0.113.23');
    // Still one notice, still being tried: the two later uses wait instead of making notices of their own.
    expect(await noticeRows(ctx, u.id)).toEqual([expect.objectContaining({ sentAt: null, gaveUpAt: null })]);
    sink.dataReply = 'accept';
    await until(async () => (await deliverDueNotices(ctx), to(sink, u.address).length === 1));
    expect(decoded(to(sink, u.address)[0]!)).toContain('Client address: 203.0.113.21');
    expect(await noticeRows(ctx, u.id)).toHaveLength(1);
    // Within the hour after it was sent, nothing more goes out; after it, one notice names both waiting uses.
    expect(await sendDueNotices(ctx)).toBe(0);
    const later = { ...ctx, clock: () => new Date(Date.now() + 61 * 60_000) };
    expect(await sendDueNotices(later)).toBe(1);
    const second = to(sink, u.address)[1]!;
    expect(decoded(second)).toContain('Client address: 203.0.113.23');
    expect(decoded(second)).toMatch(/And 1 more use since \d{4}-\d\d-\d\d \d\d:\d\d UTC:/);
    expect(decoded(second)).toContain('UTC  203.0.113.22  Thunderbird 128');
    expect(decoded(second)).not.toContain('203.0.113.21');
  });

  it('gives up after the last try with one coded line that names no address and no link; nothing is sent later', async () => {
    const { sink, ctx, logs } = await setUp('10ms,20ms');
    const u = await appUser(ctx, 'gvup');
    sink.dataReply = 'defer';
    await useApp(ctx, u);
    const sweeper = startNoticeSweeper(ctx, 1000);
    cleanups.push(() => sweeper.stop());
    await until(async () => (await noticeRows(ctx, u.id))[0]?.gaveUpAt != null);
    const [row] = await noticeRows(ctx, u.id);
    expect(row).toMatchObject({ attempts: 3, nextAttemptAt: null, sentAt: null, lastFailure: 'SEND_UPSTREAM_DEFERRED' });
    expect(sink.deferred).toBe(3);
    const gaveUp = logs.filter((l) => l.code === 'LOGIN_NOTICE_GAVE_UP');
    expect(gaveUp).toEqual([expect.objectContaining({ userId: u.id, loginId: u.app.login.id, noticeId: row!.id, attempts: 3, reason: 'SEND_UPSTREAM_DEFERRED', level: 50 })]);
    const noticeLines = JSON.stringify(logs.filter((l) => String(l.code ?? '').startsWith('LOGIN_NOTICE')));
    expect(noticeLines).not.toContain(u.address);
    expect(noticeLines).not.toContain('login-notice?t=');
    expect(noticeLines).not.toContain('Try again later');

    // The MTA is back: the given-up notice stays given up, and the uses it reported are not sent again.
    sink.dataReply = 'accept';
    await sleep(200);
    expect(await deliverDueNotices(ctx)).toBe(0);
    expect(to(sink, u.address)).toEqual([]);
  });

  it('a permanent refusal (5xx) is given up at once, without retries', async () => {
    const { sink, ctx, logs } = await setUp('10ms,20ms');
    const u = await appUser(ctx, 'perm');
    sink.dataReply = 'refuse';
    await useApp(ctx, u);
    expect(await noticeRows(ctx, u.id)).toEqual([expect.objectContaining({ attempts: 1, nextAttemptAt: null, lastFailure: 'SEND_UPSTREAM_REFUSED' })]);
    expect(logs.filter((l) => String(l.code).startsWith('LOGIN_NOTICE_')).map((l) => [l.code, l.permanent])).toEqual([['LOGIN_NOTICE_GAVE_UP', true]]);
  });

  it('never to an address that is no longer verified: a pending notice whose address lost its proof is dropped', async () => {
    const { sink, ctx, logs } = await setUp('10ms,20ms');
    const u = await appUser(ctx, 'unvr');
    await sink.goDown();
    await useApp(ctx, u);
    expect((await noticeRows(ctx, u.id))[0]).toMatchObject({ attempts: 1, lastFailure: 'SEND_UPSTREAM_DOWN' });
    // The default address changes to one not proven before the retry.
    await ctx.db.execute(sql`update personalities set email = ${`other-${u.address}`} where user_id = ${u.id} and is_default`);
    await sleep(30);
    expect(await deliverDueNotices(ctx)).toBe(0);
    expect((await noticeRows(ctx, u.id))[0]).toMatchObject({ attempts: 2, nextAttemptAt: null, lastFailure: 'LOGIN_NOTICE_NO_ADDRESS' });
    expect(logs.filter((l) => l.code === 'LOGIN_NOTICE_NO_ADDRESS')).toHaveLength(1);
  });

  it('a notice left pending when the process stopped goes out from the next one', async () => {
    const { sink, ctx } = await setUp('40ms,40ms,40ms');
    const u = await appUser(ctx, 'rest');
    sink.deferNext = 1;
    await useApp(ctx, u);
    expect(to(sink, u.address)).toEqual([]);
    // "Restart": the first process is gone (no sweeper ever ran in it); a new one opens the same database.
    const url = ctx.testDb.url;
    const secondDb: Database | null = url ? await openDatabase({ url, max: 4 }) : null;
    if (secondDb) cleanups.push(() => secondDb.close());
    const next = await createContext(ctx.config, { database: secondDb ?? ctx.database, secretKey: ctx.secretKey });
    cleanups.push(() => next.liveSessions.close());
    const sweeper = startNoticeSweeper(next, 1000);
    cleanups.push(() => sweeper.stop());
    await until(() => to(sink, u.address).length > 0);
    await sleep(200);
    expect(to(sink, u.address)).toHaveLength(1);
  });
});

describe('two instances on one PostgreSQL database', () => {
  it('claim each pending notice once: every notice arrives exactly once', async () => {
    const { sink, ctx } = await setUp('1h', { forcePostgres: true });
    expect(ctx.testDb.driver).toBe('postgres');
    const users = [];
    await sink.goDown();
    for (let i = 0; i < 12; i++) {
      const u = await appUser(ctx, `two${i}_`);
      await useApp(ctx, u);
      users.push(u);
    }
    // Every first try failed (MTA down); the MTA comes back, and the retries fall due together.
    const back = await startSmtpSink({ port: sink.port });
    cleanups.push(() => back.close());
    back.replyDelayMs = 20;
    const ids = users.map((u) => u.id);
    await ctx.db.update(loginNotices).set({ nextAttemptAt: sql`now()` }).where(inArray(loginNotices.userId, ids));

    const otherDb = await openDatabase({ url: ctx.testDb.url!, max: 10 });
    cleanups.push(() => otherDb.close());
    const other = await createContext(ctx.config, { database: otherDb, secretKey: ctx.secretKey });
    cleanups.push(() => other.liveSessions.close());
    other.log = ctx.log;

    const sent = await Promise.all([ctx, other, ctx, other].map((c) => deliverDueNotices(c)));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(12);
    expect(sent.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(back.messages.map((m) => m.to[0]).sort()).toEqual(users.map((u) => u.address).sort());
    const rows = await ctx.db.select().from(loginNotices).where(inArray(loginNotices.userId, ids));
    expect(rows.map((r) => r.attempts)).toEqual(rows.map(() => 2));
    expect(rows.every((r) => r.sentAt !== null && r.nextAttemptAt === null)).toBe(true);
  });
});
