/**
 * Paying for one SMS: a credit is reserved before the provider is called and refunded at most once when
 * the send fails, immediately or later by status callback. "At most once" is the database's job:
 * the refund is a guarded `UPDATE sms_messages SET refunded_at … WHERE refunded_at IS NULL`, and the
 * credit moves only if that UPDATE claimed the row, in the same transaction.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { smsMessages } from '../db/schema.js';
import { applyCreditChange } from './ledger.js';

/**
 * Takes one credit from `accountId` for `smsMessageId`; returns the new balance or null when the account is
 * empty (then nothing is written).
 */
export async function reserveSmsCredit(
  tx: Tx,
  input: { accountId: number; userId: number; smsMessageId: number },
): Promise<number | null> {
  return applyCreditChange(tx, { accountId: input.accountId, delta: -1, kind: 'sms_debit', userId: input.userId, smsMessageId: input.smsMessageId });
}

/**
 * Gives the credit of a failed SMS back. Returns true when this call refunded it, false when it had
 * already been refunded (a repeated callback, or a callback racing the sender's own failure path).
 */
export async function refundSmsCredit(db: Db, input: { smsMessageId: number; reason: string }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(smsMessages)
      .set({ refundedAt: new Date() })
      .where(and(eq(smsMessages.id, input.smsMessageId), isNull(smsMessages.refundedAt)))
      .returning({ accountId: smsMessages.accountId, userId: smsMessages.userId });
    if (!claimed) return false;
    const balance = await applyCreditChange(tx, {
      accountId: claimed.accountId,
      delta: 1,
      kind: 'refund',
      userId: claimed.userId,
      smsMessageId: input.smsMessageId,
      reason: input.reason,
    });
    if (balance === null) throw new Error('refund could not be applied');
    return true;
  });
}
