/**
 * Who paid for the code of an SMS challenge, in words for the member at login: when their group does not
 * pay (SMS logins not allowed, or no group credits left) and their own credits were used instead, the
 * code page says so, so nobody is surprised that their personal balance went down.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { creditAccounts, smsChallenges, smsMessages } from '../db/schema.js';
import { explainPersonalPayment, findMemberGroup } from './payer.js';

/**
 * The sentence for the code page when the code of `challengeId` was paid from the member's own credits
 * although they belong to a group; null when the group paid, or the member belongs to no group.
 */
export async function explainCodePayer(db: Db, challengeId: number): Promise<string | null> {
  const [row] = await db
    .select({ userId: smsChallenges.userId, groupAccount: creditAccounts.groupId })
    .from(smsChallenges)
    .innerJoin(smsMessages, eq(smsMessages.id, smsChallenges.smsMessageId))
    .innerJoin(creditAccounts, eq(creditAccounts.id, smsMessages.accountId))
    .where(eq(smsChallenges.id, challengeId));
  if (!row || row.groupAccount !== null) return null;
  return explainPersonalPayment(await findMemberGroup(db, row.userId));
}
