/**
 * Operator grants and corrections (`postern credits grant`, support goodwill, fixing a mistake). They are
 * ledger entries of kind `adjustment` with who and why, audited like every change of credits.
 */
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { PosternError } from '../errors.js';
import { ensureCreditAccount, type CreditOwner } from './accounts.js';
import { applyCreditChange } from './ledger.js';

/** Largest single grant: a typo should not mint a million credits. */
export const MAX_GRANT = 100_000;

/**
 * Adds (positive) or removes (negative) credits. Removing more than the balance is refused, never clipped:
 * the operator should see the real number. Returns the new balance.
 */
export async function grantCredits(
  ctx: AppContext,
  input: { owner: CreditOwner; credits: number; reason?: string | null; actorUserId?: number | null },
): Promise<number> {
  const { owner, credits } = input;
  if (!Number.isInteger(credits) || credits === 0 || Math.abs(credits) > MAX_GRANT)
    throw new PosternError('INVALID_INPUT', { message: `The number of credits must be a whole number from 1 to ${MAX_GRANT} (or its negative).` });
  const reason = input.reason?.trim().slice(0, 200) || (credits > 0 ? 'operator grant' : 'operator correction');
  return ctx.db.transaction(async (tx) => {
    const account = await ensureCreditAccount(tx, owner);
    const balance = await applyCreditChange(tx, { accountId: account.id, delta: credits, kind: 'adjustment', actorUserId: input.actorUserId, reason });
    if (balance === null)
      throw new PosternError('INVALID_INPUT', { message: `Cannot remove ${-credits} credits: the balance is only ${account.balance}.` });
    await audit(tx, {
      event: 'credits.changed',
      userId: owner.userId ?? null,
      groupId: owner.groupId ?? null,
      actorUserId: input.actorUserId,
      details: { change: 'adjustment', credits, balance, reason },
    });
    return balance;
  });
}
