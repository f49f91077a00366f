/**
 * Credit accounts: one per user (personal credits) and one per group (Business/Family credits). Accounts
 * are created on first use; a missing account simply has a balance of 0.
 */
import { and, count, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { creditAccounts, groups } from '../db/schema.js';

export type CreditAccount = typeof creditAccounts.$inferSelect;

/** Whose credits: a user's own or a group's. */
export type CreditOwner = { userId: number; groupId?: undefined } | { groupId: number; userId?: undefined };

function ownerColumn(owner: CreditOwner) {
  return owner.groupId !== undefined ? eq(creditAccounts.groupId, owner.groupId) : eq(creditAccounts.userId, owner.userId);
}

/** The owner's account, or null when they never had one. */
export async function findCreditAccount(db: Db | Tx, owner: CreditOwner): Promise<CreditAccount | null> {
  const [row] = await db.select().from(creditAccounts).where(ownerColumn(owner));
  return row ?? null;
}

/** The owner's account, created (balance 0) if needed; safe when two requests create it at once. */
export async function ensureCreditAccount(db: Db | Tx, owner: CreditOwner): Promise<CreditAccount> {
  const values = owner.groupId !== undefined ? { groupId: owner.groupId } : { userId: owner.userId };
  await db.insert(creditAccounts).values(values).onConflictDoNothing();
  const row = await findCreditAccount(db, owner);
  if (!row) throw new Error('credit account vanished after insert');
  return row;
}

/** Current balance; 0 for an owner without an account. */
export async function getCreditBalance(db: Db | Tx, owner: CreditOwner): Promise<number> {
  return (await findCreditAccount(db, owner))?.balance ?? 0;
}

/**
 * How many groups allow SMS logins with fewer than `below` credits (no account counts as 0): the groups
 * whose members are about to fall back to their own credits. For the operator's metrics.
 */
export async function countGroupsLowOnCredits(db: Db | Tx, below: number): Promise<number> {
  const [row] = await db
    .select({ count: count() })
    .from(groups)
    .leftJoin(creditAccounts, eq(creditAccounts.groupId, groups.id))
    .where(and(eq(groups.allowSms, true), sql`coalesce(${creditAccounts.balance}, 0) < ${below}`));
  return row?.count ?? 0;
}
