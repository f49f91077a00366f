/**
 * The credit ledger: every change of a balance is one append-only row, written in the same transaction as
 * the guarded UPDATE of the balance, so sum(delta) always equals the balance (checked by
 * `checkLedgerConsistency`). `applyCreditChange` is the only function that moves credits; purchases,
 * grants, SMS debits and refunds are all made of it.
 */
import { and, count, desc, eq, inArray, sql, sum, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { creditAccounts, creditLedger, ledgerKinds, users } from '../db/schema.js';

export type LedgerKind = (typeof ledgerKinds)[number];
export type LedgerEntry = typeof creditLedger.$inferSelect;

export interface CreditChange {
  accountId: number;
  /** Positive adds credits, negative spends them. */
  delta: number;
  kind: LedgerKind;
  /** The member whose SMS this paid for (sms_debit, refund). */
  userId?: number | null;
  /** The administrator or operator who made the change. */
  actorUserId?: number | null;
  reason?: string | null;
  smsMessageId?: number | null;
  orderId?: number | null;
}

/**
 * Applies a change and appends its ledger row. The balance moves only through
 * `UPDATE … WHERE balance + delta >= 0 RETURNING`, a single atomic statement, so concurrent debits can never
 * overdraw (the CHECK constraint is a second line). Returns the new balance, or null when the account has
 * too few credits (nothing is written then).
 */
export async function applyCreditChange(tx: Tx, change: CreditChange): Promise<number | null> {
  if (!Number.isInteger(change.delta) || change.delta === 0) throw new Error('a credit change needs a non-zero integer delta');
  const [row] = await tx
    .update(creditAccounts)
    .set({ balance: sql`${creditAccounts.balance} + ${change.delta}` })
    .where(and(eq(creditAccounts.id, change.accountId), sql`${creditAccounts.balance} + ${change.delta} >= 0`))
    .returning({ balance: creditAccounts.balance });
  if (!row) return null;
  await tx.insert(creditLedger).values({
    accountId: change.accountId,
    delta: change.delta,
    kind: change.kind,
    balanceAfter: row.balance,
    userId: change.userId ?? null,
    actorUserId: change.actorUserId ?? null,
    reason: change.reason ?? null,
    smsMessageId: change.smsMessageId ?? null,
    orderId: change.orderId ?? null,
  });
  return row.balance;
}

/** The balance as the ledger says it should be: the sum of all deltas. */
export async function recomputeBalance(db: Db | Tx, accountId: number): Promise<number> {
  const [row] = await db.select({ total: sum(creditLedger.delta) }).from(creditLedger).where(eq(creditLedger.accountId, accountId));
  return Number(row?.total ?? 0);
}

/** Compares the stored balance with the ledger; `consistent` false means money went missing somewhere. */
export async function checkLedgerConsistency(
  db: Db | Tx,
  accountId: number,
): Promise<{ balance: number; ledgerSum: number; consistent: boolean }> {
  const [account] = await db.select({ balance: creditAccounts.balance }).from(creditAccounts).where(eq(creditAccounts.id, accountId));
  const balance = account?.balance ?? 0;
  const ledgerSum = await recomputeBalance(db, accountId);
  return { balance, ledgerSum, consistent: balance === ledgerSum };
}

export interface LedgerQuery {
  accountId: number;
  /** Only entries about this member (whose SMS, or who acted). */
  userId?: number;
  kinds?: LedgerKind[];
  /** Page size (default 50, at most 500). */
  limit?: number;
  offset?: number;
}

export interface LedgerRow extends LedgerEntry {
  /** Username of `userId`, for "who used it". */
  username: string | null;
  actorUsername: string | null;
}

/** One page of the ledger, newest first, with the total number of matching entries for paging. */
export async function listLedgerEntries(db: Db, q: LedgerQuery): Promise<{ entries: LedgerRow[]; total: number }> {
  const where: SQL[] = [eq(creditLedger.accountId, q.accountId)];
  if (q.userId !== undefined) where.push(sql`(${creditLedger.userId} = ${q.userId} OR ${creditLedger.actorUserId} = ${q.userId})`);
  if (q.kinds?.length) where.push(inArray(creditLedger.kind, q.kinds));
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  const member = sql<string | null>`(select ${users.username} from ${users} where ${users.id} = ${creditLedger.userId})`;
  const actor = sql<string | null>`(select ${users.username} from ${users} where ${users.id} = ${creditLedger.actorUserId})`;
  const [rows, [totalRow]] = await Promise.all([
    db
      .select({ entry: creditLedger, username: member, actorUsername: actor })
      .from(creditLedger)
      .where(and(...where))
      .orderBy(desc(creditLedger.at), desc(creditLedger.id))
      .limit(limit)
      .offset(Math.max(q.offset ?? 0, 0)),
    db.select({ n: count() }).from(creditLedger).where(and(...where)),
  ]);
  return {
    entries: rows.map((r) => ({ ...r.entry, username: r.username, actorUsername: r.actorUsername })),
    total: Number(totalRow?.n ?? 0),
  };
}

/** SMS credits used per member and day (net of refunds) over the last `days` days, for the usage chart. */
export async function summariseSmsUsage(
  db: Db,
  accountId: number,
  days = 30,
): Promise<Array<{ userId: number; username: string | null; day: string; credits: number }>> {
  const day = sql<string>`to_char(${creditLedger.at} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await db
    .select({
      userId: creditLedger.userId,
      username: sql<string | null>`(select ${users.username} from ${users} where ${users.id} = ${creditLedger.userId})`,
      day,
      credits: sql<string>`-sum(${creditLedger.delta})`,
    })
    .from(creditLedger)
    .where(
      and(
        eq(creditLedger.accountId, accountId),
        inArray(creditLedger.kind, ['sms_debit', 'refund']),
        sql`${creditLedger.at} > now() - make_interval(days => ${days})`,
      ),
    )
    .groupBy(creditLedger.userId, day)
    .orderBy(day);
  return rows
    .filter((r) => r.userId !== null)
    .map((r) => ({ userId: r.userId!, username: r.username, day: r.day, credits: Number(r.credits) }));
}
