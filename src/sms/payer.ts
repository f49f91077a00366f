/**
 * Who pays for a member's SMS: their group, when it has "Allow SMS two-factor logins" on, otherwise their
 * personal credits. When the group allows SMS but has run dry, the member's own credits are the fallback,
 * since a login paid personally beats no login at all.
 */
import { eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { groupMembers, groups } from '../db/schema.js';
import { getCreditBalance } from '../credits/accounts.js';

export interface MemberGroup {
  id: number;
  name: string;
  allowSms: boolean;
}

/** The user's group (a user belongs to at most one), or null. */
export async function findMemberGroup(db: Db | Tx, userId: number): Promise<MemberGroup | null> {
  const [row] = await db
    .select({ id: groups.id, name: groups.name, allowSms: groups.allowSms })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId));
  return row ?? null;
}

/** The sentence a member reads when neither their group nor they can pay. */
export function explainNoCredits(group: MemberGroup | null): string {
  if (!group) return 'Your account has no SMS credits left, so no code can be sent. Buy SMS credits or log in another way.';
  if (!group.allowSms)
    return `SMS logins are not paid by ${group.name} (an administrator has not allowed them), and your own account has no SMS credits left, so no code can be sent.`;
  return `${group.name} has no SMS credits left, and neither has your own account, so no code can be sent. Ask an administrator of ${group.name} to buy SMS credits.`;
}

export interface SmsPaymentSummary {
  /** Who would pay for the next code right now; 'none' when nobody can. */
  payer: 'group' | 'personal' | 'none';
  group: { name: string; allowSms: boolean; hasCredits: boolean } | null;
  personalBalance: number;
}

/**
 * What a member may know about paying for their SMS codes (Options → Alternative Logins): whether their
 * group pays and can pay, and their own balance; never the group's balance or ledger.
 */
export async function describeSmsPayment(db: Db, userId: number): Promise<SmsPaymentSummary> {
  const group = await findMemberGroup(db, userId);
  const [groupBalance, personalBalance] = await Promise.all([
    group ? getCreditBalance(db, { groupId: group.id }) : Promise.resolve(0),
    getCreditBalance(db, { userId }),
  ]);
  const groupPays = Boolean(group?.allowSms && groupBalance > 0);
  return {
    payer: groupPays ? 'group' : personalBalance > 0 ? 'personal' : 'none',
    group: group ? { name: group.name, allowSms: group.allowSms, hasCredits: groupBalance > 0 } : null,
    personalBalance,
  };
}
