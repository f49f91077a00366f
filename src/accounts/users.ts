/** Users: create, find, change password, disable. */
import { eq } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { users } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { assertValidUsername, normalizeUsername } from './usernames.js';

export type User = typeof users.$inferSelect;

export const MIN_PASSWORD_LENGTH = 8;

export function assertPasswordAcceptable(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new PosternError('PASSWORD_TOO_SHORT');
}

export interface NewUser {
  username: string;
  /** Absent: the member chooses one at first login (mustChangePassword). */
  password?: string;
  upstreamUser?: string;
}

/** Creates a user; the username and upstream mailbox name are validated with the same rules. */
export async function createUser(ctx: AppContext, input: NewUser): Promise<User> {
  const username = normalizeUsername(input.username);
  assertValidUsername(username);
  const upstreamUser = input.upstreamUser ? normalizeUsername(input.upstreamUser) : username;
  assertValidUsername(upstreamUser);
  if (input.password !== undefined) assertPasswordAcceptable(input.password);
  const passwordHash = input.password !== undefined ? await ctx.hasher.hash(input.password) : null;
  const [row] = await ctx.db
    .insert(users)
    .values({ username, upstreamUser, passwordHash, mustChangePassword: input.password === undefined })
    .onConflictDoNothing({ target: users.username })
    .returning();
  if (!row) throw new PosternError('USERNAME_TAKEN', { context: { username } });
  return row;
}

export async function findUserByName(ctx: AppContext, username: string): Promise<User | null> {
  const [row] = await ctx.db.select().from(users).where(eq(users.username, normalizeUsername(username)));
  return row ?? null;
}

export async function findUserById(ctx: AppContext, id: number): Promise<User | null> {
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
