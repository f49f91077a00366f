/**
 * How many bytes a restricted session may add to a mailbox (APPEND, COPY; the webmail's uploads and
 * copies too). The rule in ./rules.ts lets a restricted session add; this bounds how much, so that a
 * hijacked session cannot fill the owner's quota (new mail would then bounce) or the store's disk.
 *
 * Two limits, both must grant: per session (in memory, gone with the session) and per login per UTC
 * day (PostgreSQL, shared by every session and instance of that login). Bytes are charged when the
 * addition is sent to the store and are not refunded if the store then refuses it: an attacker must
 * not be able to earn budget back by making commands fail. The one refund (refundAddedBytes) is for
 * an addition the front itself cancelled before the store could keep any of it — a refused
 * MULTIAPPEND, which the store rolls back whole — so nothing was added for the bytes given back.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { restrictedBudget } from '../db/schema.js';
import type { Refusal } from './rules.js';

export interface BudgetLimits {
  /** Bytes one session may add. */
  sessionBytes: number;
  /** Bytes one login may add per UTC day, over all its sessions. */
  dailyBytes: number;
}

const MiB = 1024 * 1024;

/** Defaults: a few messages with attachments per session, a busy day's worth per day. */
export const DEFAULT_BUDGET_LIMITS: BudgetLimits = { sessionBytes: 10 * MiB, dailyBytes: 50 * MiB };

/** Who is adding: the day's budget is per user and login (null: the main password). */
export interface BudgetOwner {
  userId: number;
  loginId: number | null;
}

/** The per-session half, kept by the front for the life of the session. */
export class SessionBudget {
  private used = 0;

  constructor(readonly limits: BudgetLimits) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Takes `bytes` when they fit; false (nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limits.sessionBytes) return false;
    this.used += bytes;
    return true;
  }

  giveBack(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

function overBudget(text: string, reason: string): Refusal {
  // RFC 5530 OVERQUOTA: the client shows it as "mailbox full", which is what it is for this session.
  return { code: 'OVERQUOTA', text, reason };
}

/**
 * Reserves `bytes` in the session's and the day's budget; null when granted, else the refusal.
 * The day's reservation is one statement: insert the day's row, or add to it only while the sum
 * stays within the limit, so concurrent reservations never exceed it together.
 */
export async function reserveAddedBytes(db: Db, owner: BudgetOwner, session: SessionBudget, bytes: number): Promise<Refusal | null> {
  const tooMuch = overBudget('This session may not add more mail now.', 'restricted.budget-session');
  if (!Number.isSafeInteger(bytes) || bytes < 0) return tooMuch;
  if (bytes === 0) return null;
  if (!session.take(bytes)) return tooMuch;
  const { dailyBytes } = session.limits;
  const granted = bytes <= dailyBytes && (await reserveDaily(db, owner, bytes, dailyBytes));
  if (granted) return null;
  session.giveBack(bytes);
  return overBudget('This login may not add more mail today.', 'restricted.budget-day');
}

async function reserveDaily(db: Db, owner: BudgetOwner, bytes: number, limit: number): Promise<boolean> {
  const rows = await db
    .insert(restrictedBudget)
    .values({ userId: owner.userId, loginId: owner.loginId ?? 0, day: sql`(now() at time zone 'utc')::date`, bytes })
    .onConflictDoUpdate({
      target: [restrictedBudget.userId, restrictedBudget.loginId, restrictedBudget.day],
      set: { bytes: sql`${restrictedBudget.bytes} + excluded.bytes` },
      setWhere: sql`${restrictedBudget.bytes} + excluded.bytes <= ${limit}`,
    })
    .returning({ bytes: restrictedBudget.bytes });
  return rows.length === 1;
}

/**
 * Gives back `bytes` reserved by reserveAddedBytes for an addition that the store provably did not keep
 * (see the top of this file). The day's row is lowered, never below zero; a reservation made before
 * midnight UTC and refunded after it lowers the new day's row instead (at most one cancelled command's
 * worth, once a day).
 */
export async function refundAddedBytes(db: Db, owner: BudgetOwner, session: SessionBudget, bytes: number): Promise<void> {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return;
  session.giveBack(bytes);
  await db
    .update(restrictedBudget)
    .set({ bytes: sql`greatest(${restrictedBudget.bytes} - ${bytes}::bigint, 0)` })
    .where(sql`${restrictedBudget.userId} = ${owner.userId} and ${restrictedBudget.loginId} = ${owner.loginId ?? 0}
      and ${restrictedBudget.day} = (now() at time zone 'utc')::date`);
}

/** Bytes the login has added today (for tests and, later, Options → Security). */
export async function addedToday(db: Db, owner: BudgetOwner): Promise<number> {
  const rows = await db
    .select({ bytes: restrictedBudget.bytes })
    .from(restrictedBudget)
    .where(sql`${restrictedBudget.userId} = ${owner.userId} and ${restrictedBudget.loginId} = ${owner.loginId ?? 0}
      and ${restrictedBudget.day} = (now() at time zone 'utc')::date`);
  return rows[0]?.bytes ?? 0;
}
