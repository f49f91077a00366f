/**
 * Minimal rows for SMS and credit tests, written with plain inserts so these tests do not depend on the
 * accounts module's validation rules.
 */
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../../src/context.js';
import { ensureCreditAccount, type CreditOwner } from '../../../src/credits/accounts.js';
import { applyCreditChange } from '../../../src/credits/ledger.js';
import { altLogins, groupMembers, groups, personalities, users } from '../../../src/db/schema.js';

let seq = 0;

/** A user with a default personality (mobile optional) and an SMS login. */
export async function createSmsUser(ctx: AppContext, options: { mobile?: string | null; username?: string } = {}) {
  const username = options.username ?? `user${++seq}-${Math.random().toString(36).slice(2, 8)}`;
  const [user] = await ctx.db.insert(users).values({ username, upstreamUser: username }).returning();
  await ctx.db.insert(personalities).values({
    userId: user!.id,
    name: username,
    email: `${username}@example.test`,
    mobile: options.mobile === undefined ? '+447700900123' : options.mobile,
    isDefault: true,
  });
  const [login] = await ctx.db
    .insert(altLogins)
    .values({ userId: user!.id, kind: 'sms', label: 'phone', services: ['web'], secretHash: 'x' })
    .returning();
  return { userId: user!.id, username, loginId: login!.id };
}

/** A second SMS login for the same user. */
export async function addSmsLogin(ctx: AppContext, userId: number): Promise<number> {
  const [login] = await ctx.db.insert(altLogins).values({ userId, kind: 'sms', label: 'second', services: ['web'], secretHash: 'x' }).returning();
  return login!.id;
}

export async function createGroup(ctx: AppContext, options: { allowSms: boolean; name?: string }) {
  const [group] = await ctx.db
    .insert(groups)
    .values({ name: options.name ?? `Group ${++seq}`, kind: 'business', allowSms: options.allowSms })
    .returning();
  return group!;
}

export async function joinGroup(ctx: AppContext, groupId: number, userId: number, isAdmin = false) {
  await ctx.db.insert(groupMembers).values({ groupId, userId, isAdmin });
}

export async function setAllowSms(ctx: AppContext, groupId: number, allowSms: boolean) {
  await ctx.db.update(groups).set({ allowSms }).where(eq(groups.id, groupId));
}

/** Puts `credits` on the owner's account through the ledger. */
export async function fund(ctx: AppContext, owner: CreditOwner, credits: number): Promise<number> {
  const account = await ensureCreditAccount(ctx.db, owner);
  await ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: credits, kind: 'adjustment', reason: 'test' }));
  return account.id;
}

export async function setMobile(ctx: AppContext, userId: number, mobile: string | null) {
  await ctx.db.update(personalities).set({ mobile }).where(eq(personalities.userId, userId));
}
