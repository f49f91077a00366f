/**
 * Handing login notices to the outgoing MTA, with retries. A notice is a row before it is a mail
 * (queue.ts writes it, `next_attempt_at` = now): a dead or deferring MTA, a timeout or a restart of the
 * process loses nothing, the row waits and is tried again after each of LOGIN_NOTICE_RETRY_DELAYS (by
 * default 1 min, 5 min, 30 min, 2 h, 6 h, 8 h, 8 h), then given up with LOGIN_NOTICE_GAVE_UP in the log.
 * A permanent refusal (5xx, RFC 5321 §4.2.1) is given up at once: repeating the same mail cannot change it.
 *
 * Claiming: one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, which counts the
 * attempt and moves `next_attempt_at` to the end of a lease longer than a whole relay may take
 * (SEND_DEADLINE_MS), so any number of instances on one database send each attempt once. Each attempt
 * draws a fresh link nonce (only its keyed hash is stored, as before): the mail that finally arrives
 * carries links that work, and no link secret is ever kept to rebuild an old one.
 *
 * The address is looked up at every attempt: the owner's verified default address then, never an
 * unverified one; with none left, the notice is given up (LOGIN_NOTICE_NO_ADDRESS).
 * Logs name ids, attempts and failure codes only: never an address, a link or the MTA's reply text.
 */
import { and, eq, inArray, isNotNull, lte, notInArray, sql } from 'drizzle-orm';
import { isProvenFor } from '../accounts/address-proofs.js';
import { normalizeAddress } from '../accounts/addresses.js';
import { audit } from '../audit.js';
import { nowSql } from '../clock.js';
import type { AppContext } from '../context.js';
import type { Db, Tx } from '../db/client.js';
import { altLogins, loginNotices, loginNoticeUses, personalities } from '../db/schema.js';
import { sendSystemMail } from '../submission/system-mail.js';
import { NOTICE_LINK_DAYS, newNonce, nonceHash, signNoticeLink } from './link.js';
import { composeNotice } from './notice-mail.js';

/** The longest one attempt may take, connection to the MTA's last reply (then it counts as failed). */
export const SEND_DEADLINE_MS = 60_000;
/** How long a claim holds a notice: longer than any attempt, so no other instance starts a second one. */
const CLAIM_LEASE_MS = 2 * SEND_DEADLINE_MS;
/** Notices one round tries at most (a backlog after an outage drains over a few rounds). */
const MAX_PER_ROUND = 100;

type Notice = typeof loginNotices.$inferSelect;

/** The user's default personality's address when it is proven theirs, else null (never an unverified one). */
export async function verifiedDefaultAddress(db: Db | Tx, userId: number): Promise<string | null> {
  const [p] = await db
    .select({ email: personalities.email })
    .from(personalities)
    .where(and(eq(personalities.userId, userId), eq(personalities.isDefault, true)));
  if (!p?.email) return null;
  return (await isProvenFor(db, userId, normalizeAddress(p.email))) ? p.email : null;
}

/** The page an answer link leads to. */
export function noticeLinkUrl(ctx: Pick<AppContext, 'config'>, token: string): string {
  return `${ctx.config.PUBLIC_URL}/login-notice?t=${encodeURIComponent(token)}`;
}

function interval(ms: number) {
  return sql`make_interval(secs => ${ms / 1000})`;
}

/**
 * Tries every notice whose attempt is due (optionally of one login), each at most once per call; returns
 * how many the MTA took. Never sends a notice another instance is sending.
 */
export async function deliverDueNotices(ctx: AppContext, only: { loginId?: number } = {}): Promise<number> {
  const tried: number[] = [];
  let sent = 0;
  while (tried.length < MAX_PER_ROUND) {
    const nonce = newNonce();
    const notice = await claimNotice(ctx, nonce, only.loginId, tried);
    if (!notice) break;
    tried.push(notice.id);
    if (await attempt(ctx, notice, nonce)) sent++;
  }
  return sent;
}

/** Takes one due notice for this attempt (counted, leased, fresh link nonce), or null when none is due. */
async function claimNotice(ctx: AppContext, nonce: string, loginId: number | undefined, exclude: number[]): Promise<Notice | null> {
  const now = nowSql(ctx);
  const due = and(isNotNull(loginNotices.nextAttemptAt), lte(loginNotices.nextAttemptAt, now));
  const next = ctx.db
    .select({ id: loginNotices.id })
    .from(loginNotices)
    .where(and(due, loginId !== undefined ? eq(loginNotices.loginId, loginId) : undefined, exclude.length ? notInArray(loginNotices.id, exclude) : undefined))
    .orderBy(loginNotices.nextAttemptAt)
    .limit(1)
    .for('update', { skipLocked: true });
  const [claimed] = await ctx.db
    .update(loginNotices)
    .set({
      attempts: sql`${loginNotices.attempts} + 1`,
      nextAttemptAt: sql`${now} + ${interval(CLAIM_LEASE_MS)}`,
      tokenHash: nonceHash(ctx.secretKey, nonce),
      // The links work for 7 days from the mail that carries them.
      expiresAt: sql`${now} + make_interval(days => ${NOTICE_LINK_DAYS})`,
    })
    .where(and(inArray(loginNotices.id, next), due))
    .returning();
  return claimed ?? null;
}

/** One attempt at a claimed notice; true when the MTA took it. */
async function attempt(ctx: AppContext, notice: Notice, nonce: string): Promise<boolean> {
  const log = ctx.log.child({ component: 'login-notices' });
  const ids = { userId: notice.userId, loginId: notice.loginId, noticeId: notice.id };
  // Only this attempt's claim may record its outcome (its nonce's hash is on the row until the next claim).
  const mine = and(eq(loginNotices.id, notice.id), eq(loginNotices.tokenHash, notice.tokenHash));
  const [login] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, notice.loginId));
  const uses = await ctx.db.select().from(loginNoticeUses).where(eq(loginNoticeUses.noticeId, notice.id)).orderBy(loginNoticeUses.id);
  const to = await verifiedDefaultAddress(ctx.db, notice.userId);
  if (!login || !uses.length || !to) {
    await ctx.db.update(loginNotices).set({ nextAttemptAt: null, gaveUpAt: sql`${nowSql(ctx)}`, lastFailure: 'LOGIN_NOTICE_NO_ADDRESS' }).where(mine);
    log.info({ code: 'LOGIN_NOTICE_NO_ADDRESS', ...ids, attempt: notice.attempts }, 'no verified default address: login notice not sent');
    return false;
  }
  const expires = Math.floor(notice.expiresAt.getTime() / 1000);
  const link = (answer: 'mine' | 'revoke') => noticeLinkUrl(ctx, signNoticeLink(ctx.secretKey, { noticeId: notice.id, answer, expires, nonce }));
  const mail = composeNotice({ to, label: login.label, recovery: login.recovery, uses, mineUrl: link('mine'), revokeUrl: link('revoke') });
  const sent = await sendSystemMail(ctx, mail, { connectTimeoutMs: 10_000, socketTimeoutMs: 30_000, deadlineMs: SEND_DEADLINE_MS });
  if (sent.ok && !sent.rejected.length) {
    await ctx.db.update(loginNotices).set({ sentAt: sql`${nowSql(ctx)}`, nextAttemptAt: null, lastFailure: null }).where(mine);
    await audit(ctx.db, { event: 'login.notice-sent', userId: notice.userId, details: { loginId: notice.loginId, noticeId: notice.id, uses: uses.length, attempts: notice.attempts } });
    return true;
  }
  const reason = sent.ok ? 'recipient-refused' : sent.failure.code;
  const permanent = sent.ok || sent.failure.smtpStatus >= 500;
  const retryInMs = permanent ? undefined : ctx.config.LOGIN_NOTICE_RETRY_DELAYS[notice.attempts - 1];
  if (retryInMs === undefined) {
    await ctx.db.update(loginNotices).set({ nextAttemptAt: null, gaveUpAt: sql`${nowSql(ctx)}`, lastFailure: reason }).where(mine);
    log.error({ code: 'LOGIN_NOTICE_GAVE_UP', ...ids, attempts: notice.attempts, reason, permanent }, 'login notice given up: the outgoing MTA did not take it');
    return false;
  }
  await ctx.db.update(loginNotices).set({ nextAttemptAt: sql`${nowSql(ctx)} + ${interval(retryInMs)}`, lastFailure: reason }).where(mine);
  log.error({ code: 'LOGIN_NOTICE_NOT_SENT', ...ids, attempt: notice.attempts, reason, retryInSeconds: retryInMs / 1000 }, 'login notice not sent; will try again');
  return false;
}

/** Milliseconds until the earliest pending attempt (0 when one is due), or null when none is pending. */
export async function untilNextAttempt(ctx: AppContext): Promise<number | null> {
  const [row] = await ctx.db
    .select({ ms: sql<number | null>`(extract(epoch from (min(${loginNotices.nextAttemptAt}) - ${nowSql(ctx)})) * 1000)::float8` })
    .from(loginNotices)
    .where(isNotNull(loginNotices.nextAttemptAt));
  const ms = row?.ms;
  return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
}
