/**
 * Mail domains an operator assigned to a Business/Family (`postern group domain add`). An address in such
 * a domain is proven when the group's administrators give it to one of their members: the operator has
 * vouched that the group runs that domain, so no confirmation link is needed. A domain belongs to one
 * group; nobody else can have an address in it proven that way.
 */
import { and, eq } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import type { Db, Tx } from '../db/client.js';
import { groupDomains, groupMembers } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { normalizeAddress } from './addresses.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Assigns `domain` to the group; DOMAIN_TAKEN when another group has it. */
export async function addGroupDomain(ctx: AppContext, input: { groupId: number; domain: string; actorUserId?: number | null }): Promise<string> {
  const domain = input.domain.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(domain)) throw new PosternError('INVALID_INPUT', { message: 'That is not a domain name (e.g. example.com).' });
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.insert(groupDomains).values({ domain, groupId: input.groupId }).onConflictDoNothing().returning();
    if (!row) {
      const [existing] = await tx.select().from(groupDomains).where(eq(groupDomains.domain, domain));
      if (existing?.groupId !== input.groupId) throw new PosternError('INVALID_INPUT', { message: 'That domain already belongs to another business or family.' });
      return domain;
    }
    await audit(tx, { event: 'group.changed', groupId: input.groupId, actorUserId: input.actorUserId ?? null, details: { change: 'domain-added' } });
    return domain;
  });
}

export async function listGroupDomains(ctx: Pick<AppContext, 'db'>, groupId: number): Promise<string[]> {
  const rows = await ctx.db.select({ domain: groupDomains.domain }).from(groupDomains).where(eq(groupDomains.groupId, groupId));
  return rows.map((r) => r.domain).sort();
}

/** Whether an administrator of `groupId` may give `address` to member `memberUserId` as proven. */
export async function isGroupDomainAddressFor(db: Db | Tx, groupId: number, memberUserId: number, address: string): Promise<boolean> {
  const domain = normalizeAddress(address).split('@')[1] ?? '';
  const [d] = await db.select({ g: groupDomains.groupId }).from(groupDomains).where(and(eq(groupDomains.domain, domain), eq(groupDomains.groupId, groupId)));
  if (!d) return false;
  const [m] = await db.select({ u: groupMembers.userId }).from(groupMembers).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, memberUserId)));
  return Boolean(m);
}
