/**
 * What happens after a login attempt is decided, shared by `authenticate` and the SMS code check: the
 * throttle counters, the alternative login's usage, and the audit row (method, service, address,
 * restricted — never the secret, and for unknown accounts not even the name typed, which is sometimes a
 * password typed into the wrong field).
 */
import { eq, sql } from 'drizzle-orm';
import type { User } from '../accounts/users.js';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { altLogins, groupMembers, users, type Service } from '../db/schema.js';
import { noteLoginUse } from '../notices/queue.js';
import { recordFailure, recordSuccess, type Reservation } from './throttle.js';
import type { AuthMethod, AuthSuccess } from './types.js';

export interface Attempt {
  /** Normalised login name, as typed. */
  username: string;
  service: Service;
  ip: string;
  /** The client as it named itself (AuthRequest.client), for the login notice. */
  client?: string;
  /** Set when the attempt was counted before verification (throttle.ts): it is then not counted again. */
  reservation?: Reservation;
}

export type FailureReason =
  | 'unknown-user'
  | 'disabled'
  | 'no-password'
  | 'wrong-secret'
  | 'service-not-allowed'
  | 'sms-code-wrong'
  | 'sms-challenge-invalid'
  | 'totp-code-wrong'
  | 'totp-login-invalid';

export type LoginUser = User & { groupId: number | null };

/** The user by normalised name, with their group (login audit rows are queryable per group too). */
export async function findLoginUser(ctx: AppContext, where: { username: string } | { id: number }): Promise<LoginUser | null> {
  const [row] = await ctx.db
    .select({ user: users, groupId: groupMembers.groupId })
    .from(users)
    .leftJoin(groupMembers, eq(groupMembers.userId, users.id))
    .where('id' in where ? eq(users.id, where.id) : eq(users.username, where.username));
  return row ? { ...row.user, groupId: row.groupId } : null;
}

/** Records a success and returns the result the caller hands back. */
export async function recordLoginSuccess(
  ctx: AppContext,
  attempt: Attempt,
  who: { userId: number; username: string; upstreamUser: string; groupId?: number | null },
  login: { id: number; restricted: boolean } | null,
  method: AuthMethod,
): Promise<AuthSuccess> {
  const restricted = login?.restricted ?? false;
  await Promise.all([
    recordSuccess(ctx, attempt),
    login
      ? ctx.db
          .update(altLogins)
          .set({ useCount: sql`${altLogins.useCount} + 1`, lastUsedAt: sql`now()` })
          .where(eq(altLogins.id, login.id))
      : null,
    audit(ctx.db, {
      event: 'login.succeeded',
      userId: who.userId,
      groupId: who.groupId ?? null,
      ip: attempt.ip,
      service: attempt.service,
      details: { method, loginId: login?.id ?? null, restricted },
    }),
  ]);
  // The owner hears of alternative logins by mail (src/notices/); queued after this returns, never awaited.
  if (login) noteLoginUse(ctx, { userId: who.userId, loginId: login.id, method, service: attempt.service, ip: attempt.ip, client: attempt.client });
  return { ok: true, userId: who.userId, username: who.username, upstreamUser: who.upstreamUser, loginId: login?.id ?? null, method, restricted };
}

/** Counts and records a failure; the caller returns the one generic failure. */
export async function recordLoginFailure(
  ctx: AppContext,
  attempt: Attempt,
  user: { id: number; groupId?: number | null } | null,
  reason: FailureReason,
  extra: { method?: AuthMethod; loginId?: number } = {},
): Promise<void> {
  await Promise.all([
    recordFailure(ctx, attempt),
    audit(ctx.db, {
      event: 'login.failed',
      userId: user?.id ?? null,
      groupId: user?.groupId ?? null,
      ip: attempt.ip,
      service: attempt.service,
      details: { reason, ...extra },
    }),
  ]);
}
