/**
 * What a Business/Family administrator does to their group, on top of groups.ts: look up their role in a
 * group by id (the Manage screens carry the group id in the URL), add an existing user by name, and create
 * an account for a new member with an initial password that is shown once.
 */
import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { groupMembers, groups, personalities } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { proveAddress } from './address-proofs.js';
import { normalizeAddress } from './addresses.js';
import { isGroupDomainAddressFor, listGroupDomains } from './group-domains.js';
import { createPersonality, normalizeEmail } from './personalities.js';
import { addGroupMember, listGroupMembers, type Group, type GroupMember } from './groups.js';
import { createUser, findUserByName, type User } from './users.js';

/** The user's standing in one group: an administrator, a plain member, or nothing to do with it. */
export type GroupRole = 'admin' | 'member' | 'none';

/** The group with this id, or null. */
export async function findGroupById(ctx: Pick<AppContext, 'db'>, groupId: number): Promise<Group | null> {
  if (!Number.isSafeInteger(groupId) || groupId <= 0 || groupId > 2 ** 31 - 1) return null;
  const [row] = await ctx.db.select().from(groups).where(eq(groups.id, groupId));
  return row ?? null;
}

/**
 * The user's role in `groupId`, read from the database on every call (never from the session), so a
 * removed administrator loses access with their next request. `group` is null when the user has no role:
 * callers must not tell an outsider whether the group exists.
 */
export async function findGroupRole(
  ctx: Pick<AppContext, 'db'>,
  groupId: number,
  userId: number,
): Promise<{ role: GroupRole; group: Group | null }> {
  if (!Number.isSafeInteger(groupId) || groupId <= 0 || groupId > 2 ** 31 - 1) return { role: 'none', group: null };
  const [row] = await ctx.db
    .select({ group: groups, isAdmin: groupMembers.isAdmin })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
  if (!row) return { role: 'none', group: null };
  return { role: row.isAdmin ? 'admin' : 'member', group: row.group };
}

/** Members and administrators, for the overview. */
export async function summariseGroupMembers(ctx: AppContext, groupId: number): Promise<{ members: GroupMember[]; admins: GroupMember[] }> {
  const members = await listGroupMembers(ctx, groupId);
  return { members, admins: members.filter((m) => m.isAdmin) };
}

/**
 * Adds an existing user, by login name, as a plain member. USER_NOT_FOUND when there is no such user,
 * USER_ALREADY_IN_GROUP when they belong to a business or family already (this or another).
 */
export async function addExistingMember(
  ctx: AppContext,
  input: { groupId: number; username: string; actorUserId: number },
): Promise<User> {
  const user = input.username.trim() ? await findUserByName(ctx, input.username.trim()) : null;
  if (!user) throw new PosternError('USER_NOT_FOUND');
  await addGroupMember(ctx, { groupId: input.groupId, userId: user.id, isAdmin: false, actorUserId: input.actorUserId });
  return user;
}

/** Lowercase letters and digits without the look-alikes (0/o, 1/l/i): read aloud or off paper safely. */
const INITIAL_PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const INITIAL_PASSWORD_SYMBOLS = 16;

/**
 * A new member's first password: 16 symbols from 31 ≈ 79 bits, shown as "abcd-efgh-jkmn-pqrs". Strong
 * enough for a main password (argon2id-hashed like any other), short enough to type from a note.
 */
export function generateInitialPassword(): string {
  let s = '';
  for (let i = 0; i < INITIAL_PASSWORD_SYMBOLS; i++) s += INITIAL_PASSWORD_ALPHABET[crypto.randomInt(INITIAL_PASSWORD_ALPHABET.length)];
  return s.match(/.{4}/g)!.join('-');
}

/**
 * Creates an account for a new member (`email` goes on their default personality) and adds it to the
 * group. The initial password is returned to be shown once to the administrator; only its argon2id hash
 * is stored, it is never logged or audited. The member must choose their own password at their first web
 * login; until then the initial password also works for IMAP and SMTP (a mail client cannot show the
 * "Choose your password" page), and stops working there the moment they choose.
 */
export async function createMemberAccount(
  ctx: AppContext,
  input: { groupId: number; username: string; email: string; actorUserId: number },
): Promise<{ user: User; initialPassword: string }> {
  // Required and checked before anything is written: createUser would otherwise use the bare username as
  // the personality's address, which the member could then not save in Personalities.
  const email = normalizeEmail(input.email);
  const initialPassword = generateInitialPassword();
  const user = await createUser(ctx, {
    username: input.username,
    password: initialPassword,
    email,
    // The administrator has seen this password: the member replaces it at their first web login.
    mustChangePassword: true,
    actorUserId: input.actorUserId,
    // An administrator's say-so proves an address only in a domain the operator gave the group (below).
    addressesProven: false,
  });
  // A brand-new user belongs to no group, so this cannot meet USER_ALREADY_IN_GROUP.
  await addGroupMember(ctx, { groupId: input.groupId, userId: user.id, isAdmin: false, actorUserId: input.actorUserId });
  if (await isGroupDomainAddressFor(ctx.db, input.groupId, user.id, email))
    await proveAddress(ctx.db, { userId: user.id, address: email, by: 'group-domain', actorUserId: input.actorUserId });
  return { user, initialPassword };
}

/**
 * Manage → Members: an administrator gives a member an address in a domain the operator assigned to the
 * group (`postern group domain add`). The address is proven at once (the operator vouched for the domain)
 * and goes on a new personality of the member's, so they can send as it (src/submission sendableAddresses).
 * Refused with one readable sentence: an actor who is not an administrator of the group, a member of
 * another group, an address outside the group's domains, an address another user owns (ADDRESS_TAKEN).
 * Giving an address the member has already is a no-op.
 */
export async function giveMemberAddress(
  ctx: AppContext,
  input: { groupId: number; memberUserId: number; address: string; actorUserId: number; name?: string },
): Promise<{ address: string; created: boolean }> {
  const { role } = await findGroupRole(ctx, input.groupId, input.actorUserId);
  if (role !== 'admin')
    throw new PosternError('INVALID_INPUT', { message: 'Only an administrator of this business or family can give members addresses.' });
  // Checked as an address first (EMAIL_INVALID), then compared and stored in lower case.
  const address = normalizeAddress(normalizeEmail(input.address));
  const domains = await listGroupDomains(ctx, input.groupId);
  const domain = address.split('@')[1] ?? '';
  if (!domains.includes(domain)) {
    const which = domains.length ? `this business or family's domain${domains.length > 1 ? 's' : ''} (${domains.join(', ')})` : 'a domain of this business or family, and it has none yet (an operator adds one with "postern group domain add")';
    throw new PosternError('INVALID_INPUT', { message: `${address} is not in ${which}: members can be given addresses there only.` });
  }
  if (!(await isGroupDomainAddressFor(ctx.db, input.groupId, input.memberUserId, address))) throw new PosternError('NOT_GROUP_MEMBER');
  return ctx.db.transaction(async (tx) => {
    // ADDRESS_TAKEN (nothing written) when the address is another user's.
    await proveAddress(tx, { userId: input.memberUserId, address, by: 'group-domain', actorUserId: input.actorUserId });
    const [has] = await tx
      .select({ id: personalities.id })
      .from(personalities)
      .where(and(eq(personalities.userId, input.memberUserId), sql`lower(${personalities.email}) = ${address}`))
      .limit(1);
    if (has) return { address, created: false };
    const name = input.name?.trim() || address.split('@')[0]!;
    await createPersonality(ctx, { userId: input.memberUserId, name: name.slice(0, 100), email: address, actorUserId: input.actorUserId }, tx);
    return { address, created: true };
  });
}
