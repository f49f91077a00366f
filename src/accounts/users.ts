/** Users: create (with their default personality), find, set or change the password, disable. */
import { and, eq } from 'drizzle-orm';
import { audit } from '../audit.js';
import { invalidateUser } from '../auth/auth-cache.js';
import { dummyVerify } from '../auth/dummy-verify.js';
import type { AppContext } from '../context.js';
import { users } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { END_REASONS } from '../sessions/validity.js';
import { endSessionsFor } from '../sessions/end-sessions.js';
import { createPersonality, isEmailAddress, normalizeEmail, normalizeMobile } from './personalities.js';
import { assertValidUsername, normalizeUsername } from './usernames.js';

export type User = typeof users.$inferSelect;

export const MIN_PASSWORD_LENGTH = 8;
/** argon2 accepts more, but a longer "password" is a paste accident or an attempt to burn CPU. */
export const MAX_PASSWORD_LENGTH = 1024;

export function assertPasswordAcceptable(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new PosternError('PASSWORD_TOO_SHORT');
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new PosternError('INVALID_INPUT', { message: `Passwords may be at most ${MAX_PASSWORD_LENGTH} characters long.` });
}

export interface NewUser {
  username: string;
  /** Absent: the member chooses one at first login (mustChangePassword). */
  password?: string;
  upstreamUser?: string;
  /**
   * Email of the default personality. Absent: the login name when it is an address, otherwise none yet
   * (an empty address, which the user can fill in under Personalities).
   */
  email?: string;
  /**
   * The user must choose their own password at their first web login with this one (an initial password
   * handed over by an administrator). Always true when `password` is absent.
   */
  mustChangePassword?: boolean;
  /** Mobile number of the default personality, validated to E.164. */
  mobile?: string;
  actorUserId?: number | null;
}

/**
 * Creates a user and their default personality (named after the user) in one transaction; the username
 * and upstream mailbox name are validated with the same rules.
 */
export async function createUser(ctx: AppContext, input: NewUser): Promise<User> {
  const username = normalizeUsername(input.username);
  assertValidUsername(username);
  const upstreamUser = input.upstreamUser ? normalizeUsername(input.upstreamUser) : username;
  assertValidUsername(upstreamUser);
  if (input.password !== undefined) assertPasswordAcceptable(input.password);
  if (input.email !== undefined) normalizeEmail(input.email);
  if (input.mobile !== undefined) normalizeMobile(input.mobile);
  const passwordHash = input.password !== undefined ? await ctx.hasher.hash(input.password) : null;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ username, upstreamUser, passwordHash, mustChangePassword: input.password === undefined || input.mustChangePassword === true })
      .onConflictDoNothing({ target: users.username })
      .returning();
    if (!row) throw new PosternError('USERNAME_TAKEN', { context: { username } });
    await createPersonality(
      ctx,
      {
        userId: row.id,
        name: username,
        email: input.email ?? (isEmailAddress(username) ? username : ''),
        mobile: input.mobile,
        isDefault: true,
        actorUserId: input.actorUserId,
      },
      tx,
    );
    await audit(tx, { event: 'user.created', userId: row.id, actorUserId: input.actorUserId, details: { upstreamUser } });
    return row;
  });
}

export async function findUserByName(ctx: Pick<AppContext, 'db'>, username: string): Promise<User | null> {
  const [row] = await ctx.db.select().from(users).where(eq(users.username, normalizeUsername(username)));
  return row ?? null;
}

export async function findUserById(ctx: Pick<AppContext, 'db'>, id: number): Promise<User | null> {
  const [row] = await ctx.db.select().from(users).where(eq(users.id, id));
  return row ?? null;
}

export async function requireUserByName(ctx: AppContext, username: string): Promise<User> {
  const user = await findUserByName(ctx, username);
  if (!user) throw new PosternError('USER_NOT_FOUND', { context: { username } });
  return user;
}

export async function listUsers(ctx: AppContext): Promise<User[]> {
  return ctx.db.select().from(users).orderBy(users.username);
}

/**
 * Sets the main password (administrator reset, CLI, or after `changePassword` checked the old one) and
 * clears "must change password". Cached mail logins of the user end at once, here and on other instances.
 */
export async function setPassword(
  ctx: AppContext,
  input: { userId: number; password: string; actorUserId?: number | null; keepWebSessionId?: string },
): Promise<void> {
  await writePassword(ctx, { ...input, onlyIfMustChange: false });
}

/**
 * A user whose account was made with an initial password chooses their own (first web login). Only while
 * the account still must change its password (PASSWORD_ALREADY_CHOSEN otherwise): a session cannot use
 * this to skip the current-password check of `changePassword` later.
 */
export async function chooseFirstPassword(ctx: AppContext, input: { userId: number; password: string; keepWebSessionId?: string }): Promise<void> {
  await writePassword(ctx, { ...input, actorUserId: input.userId, onlyIfMustChange: true });
}

async function writePassword(
  ctx: AppContext,
  input: { userId: number; password: string; actorUserId?: number | null; onlyIfMustChange: boolean; keepWebSessionId?: string },
): Promise<void> {
  assertPasswordAcceptable(input.password);
  const passwordHash = await ctx.hasher.hash(input.password);
  await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .update(users)
      .set({ passwordHash, mustChangePassword: false, passwordChangedAt: new Date() })
      .where(and(eq(users.id, input.userId), input.onlyIfMustChange ? eq(users.mustChangePassword, true) : undefined))
      .returning({ id: users.id });
    if (!rows.length) {
      const exists = input.onlyIfMustChange && (await tx.select({ id: users.id }).from(users).where(eq(users.id, input.userId))).length > 0;
      throw new PosternError(exists ? 'PASSWORD_ALREADY_CHOSEN' : 'USER_NOT_FOUND');
    }
    await audit(tx, {
      event: 'password.changed',
      userId: input.userId,
      actorUserId: input.actorUserId ?? input.userId,
      details: input.onlyIfMustChange ? { first: true } : {},
    });
  });
  // After the commit: a mail client still holding the old password must not be let in from the cache,
  // sessions it opened end, and so does every browser but the one that made the change (if any).
  await invalidateUser(ctx, input.userId);
  await endSessionsFor(ctx, { userId: input.userId, loginId: null, except: input.keepWebSessionId, allWebSessions: true }, END_REASONS.password);
}

/** Checks the main password of a user (for step-up re-authentication); one argon2 verification. */
export async function verifyMainPassword(ctx: AppContext, userId: number, password: string): Promise<boolean> {
  const user = await findUserById(ctx, userId);
  if (!user?.passwordHash || user.disabled) return dummyVerify(ctx.hasher, password);
  return ctx.hasher.verify(user.passwordHash, password);
}

/** A user changing their own password: the current one must be right (PASSWORD_INCORRECT otherwise). */
export async function changePassword(
  ctx: AppContext,
  input: { userId: number; currentPassword: string; newPassword: string; keepWebSessionId?: string },
): Promise<void> {
  assertPasswordAcceptable(input.newPassword);
  if (!(await verifyMainPassword(ctx, input.userId, input.currentPassword))) throw new PosternError('PASSWORD_INCORRECT');
  await setPassword(ctx, { userId: input.userId, password: input.newPassword, actorUserId: input.userId, keepWebSessionId: input.keepWebSessionId });
}

/** Disables (or re-enables) an account: every login fails like a wrong password; its sessions and cached logins end now. */
export async function setUserDisabled(
  ctx: AppContext,
  input: { userId: number; disabled: boolean; actorUserId?: number | null },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const rows = await tx.update(users).set({ disabled: input.disabled }).where(eq(users.id, input.userId)).returning({ id: users.id });
    if (!rows.length) throw new PosternError('USER_NOT_FOUND');
    await audit(tx, { event: 'user.disabled', userId: input.userId, actorUserId: input.actorUserId, details: { disabled: input.disabled } });
  });
  await invalidateUser(ctx, input.userId);
  if (input.disabled) await endSessionsFor(ctx, { userId: input.userId }, END_REASONS.disabled);
}

/** Shorthand for `setUserDisabled(… disabled: true)`. */
export function disableUser(ctx: AppContext, userId: number, actorUserId?: number | null): Promise<void> {
  return setUserDisabled(ctx, { userId, disabled: true, actorUserId });
}
