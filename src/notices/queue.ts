/**
 * Login notices, issue 16: when an alternative login opens a session, its owner hears of it by mail at
 * their verified default address. The login only writes down the use — and even that runs after the
 * login has answered (`noteLoginUse` starts the work and returns): a slow database or a dead MTA never
 * slows or fails a login; failures are logged with a code (LOGIN_NOTICE_FAILED, LOGIN_NOTICE_NOT_SENT).
 *
 * Queue: one `login_notice_uses` row per use. `sendDueNotices` turns a login's waiting uses into one
 * notice unless the login had one in the last hour — so at most one mail per login per hour, and the
 * uses in between are summarised by the next notice (sent at the next use after the hour, or by the
 * periodic sweep, `startNoticeSweeper`). Claiming a login's uses is one transaction under the login's
 * row lock, so two instances never mail the same uses twice.
 *
 * Which uses notify: every use of an alternate password, one-time code, SMS password, authenticator app
 * or recovery list; an app password only from an (address, client) pair it was not used from before.
 * The user may turn kinds off (settings.ts). Never to an unverified address: with no proven default
 * address the waiting uses are dropped (logged), nothing is sent.
 */
import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { isProvenFor } from '../accounts/address-proofs.js';
import { normalizeAddress } from '../accounts/addresses.js';
import { audit } from '../audit.js';
import { nowSql } from '../clock.js';
import type { AppContext } from '../context.js';
import { altLogins, loginNotices, loginNoticeUses, loginSeenClients, personalities } from '../db/schema.js';
import type { Db, Tx } from '../db/client.js';
import { sendSystemMail } from '../submission/system-mail.js';
import { NOTICE_LINK_DAYS, newNonce, nonceHash, signNoticeLink } from './link.js';
import { composeNotice } from './notice-mail.js';
import { noticeKindsOf, type NoticeKind } from './settings.js';

export interface LoginUse {
  userId: number;
  loginId: number;
  method: string;
  service: string;
  ip: string;
  client?: string;
}

/** Work started by `noteLoginUse` and not finished yet, per database (tests wait for it). */
const inFlight = new WeakMap<object, Set<Promise<void>>>();

/**
 * Records a use of an alternative login and sends its notice when one is due, in the background: returns
 * at once, never throws.
 */
export function noteLoginUse(ctx: AppContext, use: LoginUse): void {
  const work = queueAndSend(ctx, use).catch((err: unknown) => {
    ctx.log.error({ code: 'LOGIN_NOTICE_FAILED', userId: use.userId, loginId: use.loginId, err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'login notice could not be queued or sent');
  });
  let set = inFlight.get(ctx.database);
  if (!set) inFlight.set(ctx.database, (set = new Set()));
  set.add(work);
  void work.finally(() => set.delete(work));
}

/** Resolves once every notice started so far on this database has been queued and sent (or failed). */
export async function settleLoginNotices(ctx: Pick<AppContext, 'database'>): Promise<void> {
  const set = inFlight.get(ctx.database);
  while (set?.size) await Promise.all([...set]);
}

/** The notice kind of a login: its kind, or 'recovery' for a recovery list. */
function noticeKindOf(login: { kind: string; recovery: boolean }): NoticeKind {
  return login.kind === 'otp' && login.recovery ? 'recovery' : (login.kind as NoticeKind);
}

async function queueAndSend(ctx: AppContext, use: LoginUse): Promise<void> {
  const [login] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, use.loginId));
  if (!login) return;
  if (login.kind === 'app') {
    // Remembered whether or not app notices are on, so turning them on later does not report old clients.
    const fresh = await ctx.db
      .insert(loginSeenClients)
      .values({ loginId: login.id, ip: use.ip, client: (use.client ?? '').slice(0, 200) })
      .onConflictDoNothing()
      .returning({ loginId: loginSeenClients.loginId });
    if (!fresh.length) return;
  }
  if (!(await noticeKindsOf(ctx, use.userId)).has(noticeKindOf(login))) return;
  await ctx.db.insert(loginNoticeUses).values({
    userId: use.userId,
    loginId: use.loginId,
    method: use.method,
    service: use.service,
    ip: use.ip,
    client: use.client?.slice(0, 200) ?? null,
    at: sql`${nowSql(ctx)}`,
  });
  await sendDueNotices(ctx, { loginId: use.loginId });
}

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

/** Sends every notice that is due (optionally for one login); returns how many went out. */
export async function sendDueNotices(ctx: AppContext, only: { loginId?: number } = {}): Promise<number> {
  const due = await ctx.db
    .selectDistinct({ loginId: loginNoticeUses.loginId })
    .from(loginNoticeUses)
    .where(and(isNull(loginNoticeUses.noticeId), only.loginId !== undefined ? eq(loginNoticeUses.loginId, only.loginId) : undefined))
    .limit(200);
  let sent = 0;
  for (const { loginId } of due) if (await sendNoticeFor(ctx, loginId)) sent++;
  return sent;
}

async function sendNoticeFor(ctx: AppContext, loginId: number): Promise<boolean> {
  const log = ctx.log.child({ component: 'login-notices' });
  const claim = await ctx.db.transaction(async (tx) => {
    const [login] = await tx.select().from(altLogins).where(eq(altLogins.id, loginId)).for('update');
    if (!login) return null;
    const [recent] = await tx
      .select({ id: loginNotices.id })
      .from(loginNotices)
      .where(and(eq(loginNotices.loginId, loginId), gt(loginNotices.createdAt, sql`${nowSql(ctx)} - interval '1 hour'`)))
      .limit(1);
    if (recent) return null;
    const uses = await tx
      .select()
      .from(loginNoticeUses)
      .where(and(eq(loginNoticeUses.loginId, loginId), isNull(loginNoticeUses.noticeId)))
      .orderBy(loginNoticeUses.id);
    if (!uses.length) return null;
    const to = await verifiedDefaultAddress(tx, login.userId);
    if (!to) {
      // Nobody to tell: the uses do not wait for an address that may never be verified.
      await tx.delete(loginNoticeUses).where(inArray(loginNoticeUses.id, uses.map((u) => u.id)));
      log.info({ code: 'LOGIN_NOTICE_NO_ADDRESS', userId: login.userId, loginId }, 'no verified default address: login notice not sent');
      return null;
    }
    const nonce = newNonce();
    const [notice] = await tx
      .insert(loginNotices)
      .values({
        userId: login.userId,
        loginId,
        tokenHash: nonceHash(ctx.secretKey, nonce),
        createdAt: sql`${nowSql(ctx)}`,
        expiresAt: sql`${nowSql(ctx)} + make_interval(days => ${NOTICE_LINK_DAYS})`,
      })
      .returning();
    await tx.update(loginNoticeUses).set({ noticeId: notice!.id }).where(inArray(loginNoticeUses.id, uses.map((u) => u.id)));
    return { login, uses, notice: notice!, nonce, to };
  });
  if (!claim) return false;
  const { login, notice, nonce } = claim;
  const expires = Math.floor(notice.expiresAt.getTime() / 1000);
  const link = (answer: 'mine' | 'revoke') => noticeLinkUrl(ctx, signNoticeLink(ctx.secretKey, { noticeId: notice.id, answer, expires, nonce }));
  const mail = composeNotice({ to: claim.to, label: login.label, recovery: login.recovery, uses: claim.uses, mineUrl: link('mine'), revokeUrl: link('revoke') });
  const sent = await sendSystemMail(ctx, mail);
  if (!sent.ok || sent.rejected.length) {
    log.error({ code: 'LOGIN_NOTICE_NOT_SENT', userId: login.userId, loginId, noticeId: notice.id, reason: sent.ok ? 'recipient-refused' : sent.failure.code }, 'login notice not sent');
    return false;
  }
  await ctx.db.update(loginNotices).set({ sentAt: sql`now()` }).where(eq(loginNotices.id, notice.id));
  await audit(ctx.db, { event: 'login.notice-sent', userId: login.userId, details: { loginId, noticeId: notice.id, uses: claim.uses.length } });
  return true;
}

/** Notices (and the uses they reported) are kept this long: the links work 7 days, the rest is history. */
const KEEP_NOTICES = sql`interval '30 days'`;

/** Forgets notices older than KEEP_NOTICES and the uses they reported; returns how many notices went. */
export async function pruneOldNotices(ctx: AppContext): Promise<number> {
  const old = sql`${loginNotices.createdAt} < ${nowSql(ctx)} - ${KEEP_NOTICES}`;
  // The uses first: deleting a notice would otherwise set their notice_id to null, i.e. waiting again.
  await ctx.db.delete(loginNoticeUses).where(inArray(loginNoticeUses.noticeId, ctx.db.select({ id: loginNotices.id }).from(loginNotices).where(old)));
  const gone = await ctx.db.delete(loginNotices).where(old).returning({ id: loginNotices.id });
  return gone.length;
}

/**
 * Sends the summaries that fell due (uses that waited out a login's hour) every `intervalMs`; stop() it at
 * shutdown. Errors are logged (LOGIN_NOTICE_SWEEP_FAILED) and the next round tries again.
 */
export function startNoticeSweeper(ctx: AppContext, intervalMs = 60_000): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sendDueNotices(ctx)
      .then(() => pruneOldNotices(ctx))
      .catch((err: unknown) => ctx.log.error({ code: 'LOGIN_NOTICE_SWEEP_FAILED', err: { name: (err as Error)?.name } }, 'login notice sweep failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
