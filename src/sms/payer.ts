/**
 * Who pays for a member's SMS: their group, when it has "Allow SMS two-factor logins" on and credits left,
 * otherwise their personal credits (a login paid personally beats no login at all). `choosePayer` is the
 * one place that rule lives: the credit reservation (login-code.ts), the code page's note on who paid
 * (code-payer.ts) and Options → Alternative Logins (describeSmsPayment) all ask it, and the sentences a
 * member reads follow from its answer.
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

export interface PayerChoice {
  payer: 'group' | 'personal' | 'none';
  /** Why the group does not pay (or that it does). */
  why: 'group-pays' | 'no-group' | 'sms-not-allowed' | 'group-has-no-credits';
}

/** The rule: the group when it allows SMS logins and has a credit, else the member when they have one. */
export function choosePayer(group: MemberGroup | null, credits: { groupHasCredits: boolean; personalHasCredits: boolean }): PayerChoice {
  const why: PayerChoice['why'] = !group ? 'no-group' : !group.allowSms ? 'sms-not-allowed' : credits.groupHasCredits ? 'group-pays' : 'group-has-no-credits';
  if (why === 'group-pays') return { payer: 'group', why };
  return { payer: credits.personalHasCredits ? 'personal' : 'none', why };
}

/** The sentence a member reads when neither their group nor they can pay. */
export function explainNoCredits(group: MemberGroup | null): string {
  const { why } = choosePayer(group, { groupHasCredits: false, personalHasCredits: false });
  if (why === 'no-group' || !group) return 'Your account has no SMS credits left, so no code can be sent. Buy SMS credits or log in another way.';
  if (why === 'sms-not-allowed')
    return `SMS logins are not paid by ${group.name} (an administrator has not allowed them), and your own account has no SMS credits left, so no code can be sent.`;
  return `${group.name} has no SMS credits left, and neither has your own account, so no code can be sent. Ask an administrator of ${group.name} to buy SMS credits.`;
}

/** The code page's note when a group member's code was paid from their own credits; null otherwise. */
export function explainPersonalPayment(group: MemberGroup | null): string | null {
  // The member paid, so the group did not: it either does not allow SMS logins or had no credits.
  const { why } = choosePayer(group, { groupHasCredits: false, personalHasCredits: true });
  if (!group || why === 'no-group') return null;
  return why === 'sms-not-allowed'
    ? `SMS logins are not paid by ${group.name}, so this code was paid from your own SMS credits.`
    : `${group.name} has no SMS credits left, so this code was paid from your own SMS credits.`;
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
  const { payer } = choosePayer(group, { groupHasCredits: groupBalance > 0, personalHasCredits: personalBalance > 0 });
  return {
    payer,
    group: group ? { name: group.name, allowSms: group.allowSms, hasCredits: groupBalance > 0 } : null,
    personalBalance,
  };
}
