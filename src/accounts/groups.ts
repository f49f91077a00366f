/**
 * Businesses and families ("groups"): members, administrators, and preferences such as "Allow SMS
 * two-factor logins" (off by default: when on, members' SMS codes are paid from the group's credits).
 * A user belongs to at most one group (unique index), so "who pays" always has one answer. A group keeps at
 * least one administrator once it has one: the last administrator can neither leave nor step down.
 */
import { and, asc, eq } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import type { Tx } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { groupMembers, groups, users } from '../db/schema.js';
import { PosternError } from '../errors.js';

export type Group = typeof groups.$inferSelect;
export type GroupKind = Group['kind'];
export const groupKinds: GroupKind[] = ['business', 'family'];

export interface GroupMember {
  userId: number;
  username: string;
  isAdmin: boolean;
  addedAt: Date;
}

const GROUP_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._&'-]{0,79}$/u;

/** Creates a group. Names are unique and readable (letters, digits, spaces and . _ & ' -). */
export async function createGroup(
  ctx: AppContext,
  input: { name: string; kind: GroupKind; allowSms?: boolean; actorUserId?: number | null },
): Promise<Group> {
  const name = input.name.trim();
  if (!GROUP_NAME.test(name)) throw new PosternError('INVALID_INPUT', { message: 'Group names are 1–80 letters, digits, spaces and . _ & \' -.' });
  if (!groupKinds.includes(input.kind)) throw new PosternError('INVALID_INPUT', { message: 'A group is a business or a family.' });
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(groups)
      .values({ name, kind: input.kind, allowSms: input.allowSms ?? false })
      .onConflictDoNothing({ target: groups.name })
      .returning();
    if (!row) throw new PosternError('GROUP_NAME_TAKEN');
    await audit(tx, { event: 'group.changed', groupId: row.id, actorUserId: input.actorUserId, details: { change: 'created', kind: row.kind, allowSms: row.allowSms } });
    return row;
  });
}

export async function findGroupByName(ctx: AppContext, name: string): Promise<Group | null> {
  const [row] = await ctx.db.select().from(groups).where(eq(groups.name, name.trim()));
  return row ?? null;
}

export async function requireGroupByName(ctx: AppContext, name: string): Promise<Group> {
  const group = await findGroupByName(ctx, name);
  if (!group) throw new PosternError('GROUP_NOT_FOUND');
  return group;
}

/** The group a user belongs to, with their admin flag; null when they belong to none. */
export async function findGroupOfUser(
  ctx: Pick<AppContext, 'db'>,
  userId: number,
): Promise<(Group & { isAdmin: boolean }) | null> {
  const [row] = await ctx.db
    .select({ group: groups, isAdmin: groupMembers.isAdmin })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId));
  return row ? { ...row.group, isAdmin: row.isAdmin } : null;
}

export async function isGroupAdmin(ctx: Pick<AppContext, 'db'>, groupId: number, userId: number): Promise<boolean> {
  const [row] = await ctx.db
    .select({ isAdmin: groupMembers.isAdmin })
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
  return row?.isAdmin ?? false;
}

export async function listGroupMembers(ctx: AppContext, groupId: number): Promise<GroupMember[]> {
  return ctx.db
    .select({ userId: users.id, username: users.username, isAdmin: groupMembers.isAdmin, addedAt: groupMembers.addedAt })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(eq(groupMembers.groupId, groupId))
    .orderBy(asc(users.username));
}

/** Adds a user to a group; USER_ALREADY_IN_GROUP when they belong to one (this or another). */
export async function addGroupMember(
  ctx: AppContext,
  input: { groupId: number; userId: number; isAdmin?: boolean; actorUserId?: number | null },
): Promise<void> {
  try {
    await ctx.db.transaction(async (tx) => {
      await tx.insert(groupMembers).values({ groupId: input.groupId, userId: input.userId, isAdmin: input.isAdmin ?? false });
      await audit(tx, {
        event: 'group.member-added',
        groupId: input.groupId,
        userId: input.userId,
        actorUserId: input.actorUserId,
        details: { isAdmin: input.isAdmin ?? false },
      });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new PosternError('USER_ALREADY_IN_GROUP');
    throw e;
  }
}

/**
 * Locks the group's member rows and checks that removing `userId`'s admin role leaves another
 * administrator. FOR UPDATE serialises two administrators stepping down at the same moment.
 */
async function assertNotLastAdmin(tx: Tx, groupId: number, userId: number): Promise<{ isAdmin: boolean }> {
  const members = await tx
    .select({ userId: groupMembers.userId, isAdmin: groupMembers.isAdmin })
    .from(groupMembers)
    .where(eq(groupMembers.groupId, groupId))
    .for('update');
  const me = members.find((m) => m.userId === userId);
  if (!me) throw new PosternError('NOT_GROUP_MEMBER');
  if (me.isAdmin && !members.some((m) => m.isAdmin && m.userId !== userId)) throw new PosternError('LAST_GROUP_ADMIN');
  return me;
}

/** Removes a member. The last administrator cannot be removed (nor remove themself). */
export async function removeGroupMember(
  ctx: AppContext,
  input: { groupId: number; userId: number; actorUserId?: number | null },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await assertNotLastAdmin(tx, input.groupId, input.userId);
    await tx.delete(groupMembers).where(and(eq(groupMembers.groupId, input.groupId), eq(groupMembers.userId, input.userId)));
    await audit(tx, { event: 'group.member-removed', groupId: input.groupId, userId: input.userId, actorUserId: input.actorUserId });
  });
}

/** Appoints or removes an administrator; the last one cannot step down. */
export async function setGroupAdmin(
  ctx: AppContext,
  input: { groupId: number; userId: number; isAdmin: boolean; actorUserId?: number | null },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    if (!input.isAdmin) await assertNotLastAdmin(tx, input.groupId, input.userId);
    const rows = await tx
      .update(groupMembers)
      .set({ isAdmin: input.isAdmin })
      .where(and(eq(groupMembers.groupId, input.groupId), eq(groupMembers.userId, input.userId)))
      .returning({ userId: groupMembers.userId });
    if (!rows.length) throw new PosternError('NOT_GROUP_MEMBER');
    await audit(tx, {
      event: 'group.changed',
      groupId: input.groupId,
      userId: input.userId,
      actorUserId: input.actorUserId,
      details: { change: input.isAdmin ? 'admin-added' : 'admin-removed' },
    });
  });
}

/** Turns "Allow SMS two-factor logins" on or off. */
export async function setGroupAllowSms(
  ctx: AppContext,
  input: { groupId: number; allowSms: boolean; actorUserId?: number | null },
): Promise<Group> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.update(groups).set({ allowSms: input.allowSms }).where(eq(groups.id, input.groupId)).returning();
    if (!row) throw new PosternError('GROUP_NOT_FOUND');
    await audit(tx, { event: 'group.changed', groupId: row.id, actorUserId: input.actorUserId, details: { change: 'allow-sms', allowSms: input.allowSms } });
    return row;
  });
}
