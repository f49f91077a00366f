/**
 * Login notices, issue 16: when an alternative login opens a session, its owner hears of it by mail at
 * their verified default address. The login only writes down the use — and even that runs after the
 * login has answered (`noteLoginUse` starts the work and returns): a slow database or a dead MTA never
 * slows or fails a login; failures are logged with a code (LOGIN_NOTICE_FAILED; a mail the MTA did not
 * take: LOGIN_NOTICE_NOT_SENT, retried, and LOGIN_NOTICE_GAVE_UP after the last try).
 *
 * Queue: one `login_notice_uses` row per use. `sendDueNotices` turns a login's waiting uses into one
 * pending notice unless the login had one sent in the last hour or has one still being tried — so at
 * most one mail per login per hour, and the uses in between are summarised by the next notice (made at
 * the next use after the hour, or by the periodic sweep, `startNoticeSweeper`). Claiming a login's uses
 * is one transaction under the login's row lock, so two instances never put the same uses in two
 * notices. The notice row is then handed to the MTA and retried until it takes it (delivery.ts).
 *
 * Which uses notify: every use of an alternate password, one-time code, SMS password, authenticator app
 * or recovery list; an app password only from an (address, client) pair it was not used from before.
 * The user may turn kinds off (settings.ts). Never to an unverified address: with no proven default
 * address the waiting uses are dropped (logged), nothing is sent.
 */
import { and, eq, gt, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { nowSql } from '../clock.js';
import type { AppContext } from '../context.js';
import { altLogins, loginNotices, loginNoticeUses, loginSeenClients } from '../db/schema.js';
import { deliverDueNotices, untilNextAttempt, verifiedDefaultAddress } from './delivery.js';
import { NOTICE_LINK_DAYS, newNonce, nonceHash } from './link.js';
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

/**
 * Sends every notice that is due (optionally for one login): turns waiting uses into notices where the
 * login's hour allows, then tries every notice whose attempt is due (delivery.ts). Returns how many the
 * outgoing MTA took.
 */
export async function sendDueNotices(ctx: AppContext, only: { loginId?: number } = {}): Promise<number> {
  const due = await ctx.db
    .selectDistinct({ loginId: loginNoticeUses.loginId })
    .from(loginNoticeUses)
    .where(and(isNull(loginNoticeUses.noticeId), only.loginId !== undefined ? eq(loginNoticeUses.loginId, only.loginId) : undefined))
    .limit(200);
  for (const { loginId } of due) await composeNoticeFor(ctx, loginId);
  return deliverDueNotices(ctx, only);
}

/**
 * Makes a login's waiting uses into one pending notice (due at once), unless the login has a notice still
 * being tried or had one sent in the last hour: then the uses wait and the next notice summarises them.
 */
async function composeNoticeFor(ctx: AppContext, loginId: number): Promise<void> {
  const log = ctx.log.child({ component: 'login-notices' });
  await ctx.db.transaction(async (tx) => {
    const [login] = await tx.select().from(altLogins).where(eq(altLogins.id, loginId)).for('update');
    if (!login) return;
    const [recent] = await tx
      .select({ id: loginNotices.id })
      .from(loginNotices)
      .where(
        and(
          eq(loginNotices.loginId, loginId),
          or(isNotNull(loginNotices.nextAttemptAt), gt(sql`coalesce(${loginNotices.sentAt}, ${loginNotices.createdAt})`, sql`${nowSql(ctx)} - interval '1 hour'`)),
        ),
      )
      .limit(1);
    if (recent) return;
    const uses = await tx
      .select({ id: loginNoticeUses.id })
      .from(loginNoticeUses)
      .where(and(eq(loginNoticeUses.loginId, loginId), isNull(loginNoticeUses.noticeId)));
    if (!uses.length) return;
    if (!(await verifiedDefaultAddress(tx, login.userId))) {
      // Nobody to tell: the uses do not wait for an address that may never be verified.
      await tx.delete(loginNoticeUses).where(inArray(loginNoticeUses.id, uses.map((u) => u.id)));
      log.info({ code: 'LOGIN_NOTICE_NO_ADDRESS', userId: login.userId, loginId }, 'no verified default address: login notice not sent');
      return;
    }
    const [notice] = await tx
      .insert(loginNotices)
      .values({
        userId: login.userId,
        loginId,
        // A placeholder no link carries: each attempt stores the hash of its own fresh nonce (delivery.ts).
        tokenHash: nonceHash(ctx.secretKey, newNonce()),
        createdAt: sql`${nowSql(ctx)}`,
        expiresAt: sql`${nowSql(ctx)} + make_interval(days => ${NOTICE_LINK_DAYS})`,
        nextAttemptAt: sql`${nowSql(ctx)}`,
      })
      .returning({ id: loginNotices.id });
    await tx.update(loginNoticeUses).set({ noticeId: notice!.id }).where(inArray(loginNoticeUses.id, uses.map((u) => u.id)));
  });
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
 * Sends what fell due — summaries that waited out a login's hour, retries of notices the MTA did not take,
 * notices left pending by a restart — in rounds: one at once, then again when the earliest retry is due,
 * and at least every `intervalMs` (for what other instances queue); stop() it at shutdown. Errors are
 * logged (LOGIN_NOTICE_SWEEP_FAILED) and the next round tries again.
 */
export function startNoticeSweeper(ctx: AppContext, intervalMs = 60_000): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    let wait = intervalMs;
    try {
      await sendDueNotices(ctx);
      await pruneOldNotices(ctx);
      const next = await untilNextAttempt(ctx);
      if (next !== null) wait = Math.min(intervalMs, Math.max(next, MIN_ROUND_GAP_MS));
    } catch (err) {
      ctx.log.error({ code: 'LOGIN_NOTICE_SWEEP_FAILED', err: { name: (err as Error)?.name } }, 'login notice sweep failed');
    }
    if (stopped) return;
    timer = setTimeout(() => void round(), wait);
    timer.unref();
  };
  timer = setTimeout(() => void round(), 0);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Rounds are at least this far apart, however soon a retry is due. */
const MIN_ROUND_GAP_MS = 10;
