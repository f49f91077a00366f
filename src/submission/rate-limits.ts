/**
 * Sending limits: a stolen login must not become a spam cannon. Per message, a recipient cap; per hour,
 * a cap for the account (all its logins together) and one for the login used — lower for restricted
 * logins, the kind handed to a device or a shared computer. Every front counts in the same ledger
 * (table submissions), so web compose and SMTP share the hour.
 *
 * A message takes its place in the ledger before it is relayed, under a per-user transaction lock, so
 * concurrent connections cannot all slip under the cap; a message that was not sent gives it back.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { nowSql } from '../clock.js';
import { submissions } from '../db/schema.js';
import { refusals, type SubmitFailure } from './result.js';

export interface Sender {
  userId: number;
  /** The alternative login used, or null for the main password. */
  loginId: number | null;
  restricted: boolean;
}

/** How many recipients one message from this login may have. */
export function maxRecipients(ctx: AppContext, sender: Pick<Sender, 'restricted'>): number {
  return sender.restricted ? ctx.config.SEND_MAX_RECIPIENTS_RESTRICTED : ctx.config.SEND_MAX_RECIPIENTS;
}

/** The refusal for a message with `count` recipients, or null. */
export function checkRecipientCount(ctx: AppContext, sender: Pick<Sender, 'restricted'>, count: number): SubmitFailure | null {
  if (count === 0) return refusals.noRecipients();
  const max = maxRecipients(ctx, sender);
  return count > max ? refusals.tooManyRecipients(max) : null;
}

/** Takes a place in this hour's ledger; the id gives it back with `releaseSubmission`. */
export async function reserveSubmission(ctx: AppContext, sender: Sender, recipients: number): Promise<{ ok: true; id: number } | SubmitFailure> {
  const c = ctx.config;
  const perLogin = sender.restricted ? c.SEND_MAX_MESSAGES_PER_HOUR_RESTRICTED : c.SEND_MAX_MESSAGES_PER_HOUR_PER_LOGIN;
  return ctx.db.transaction(async (tx) => {
    // One sender at a time per user: the count and the insert below must not interleave.
    await tx.execute(sql`select pg_advisory_xact_lock(${ADVISORY_NAMESPACE}, ${sender.userId})`);
    const since = sql`${nowSql(ctx)} - interval '1 hour'`;
    const [account] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(submissions)
      .where(and(eq(submissions.userId, sender.userId), gt(submissions.at, since)));
    if (account!.n >= c.SEND_MAX_MESSAGES_PER_HOUR) return refusals.hourlyLimit(c.SEND_MAX_MESSAGES_PER_HOUR, 'account');
    const [login] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(submissions)
      .where(
        and(
          eq(submissions.userId, sender.userId),
          sender.loginId === null ? isNull(submissions.loginId) : eq(submissions.loginId, sender.loginId),
          gt(submissions.at, since),
        ),
      );
    if (login!.n >= perLogin) return refusals.hourlyLimit(perLogin, 'login');
    const [row] = await tx
      .insert(submissions)
      .values({ userId: sender.userId, loginId: sender.loginId, recipients, at: sql`${nowSql(ctx)}` })
      .returning({ id: submissions.id });
    return { ok: true as const, id: row!.id };
  });
}

/** Gives a place back: the message was not sent, and the client will try again. */
export async function releaseSubmission(ctx: AppContext, id: number): Promise<void> {
  await ctx.db.delete(submissions).where(eq(submissions.id, id));
}

/** First key of the two-int advisory lock: the sending ledger's own space. */
const ADVISORY_NAMESPACE = 14_001;
