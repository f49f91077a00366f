/**
 * Who pays for a member's SMS: their group, when it has "Allow SMS two-factor logins" on, otherwise their
 * personal credits. When the group allows SMS but has run dry, the member's own credits are the fallback,
 * since a login paid personally beats no login at all.
 */
import { eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { groupMembers, groups } from '../db/schema.js';

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
