/**
 * Whether live sessions are still allowed, judged by the database: the user exists and is enabled, the
 * login that opened the session is not revoked, a main-password session began after the last password
 * change, a 1-hour window is not over. Used when a session registers (a change may have raced the login)
 * and by the periodic re-check (a NOTIFY may have been missed while the LISTEN connection was down).
 */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { altLogins, users } from '../db/schema.js';
import type { LiveSessionInfo } from './types.js';

export const END_REASONS = {
  disabled: 'Your account was disabled',
  revoked: 'The login used for this session was revoked',
  password: 'Your password was changed',
  window: 'The 1-hour window of this login is over',
  byUser: 'This session was ended from Options, Security',
} as const;

/** Database queries take ids in chunks of this size (bind-parameter limits, statement size). */
const CHUNK = 1000;

type Checked = Pick<LiveSessionInfo, 'userId' | 'loginId' | 'authStartedAt' | 'validUntil' | 'passwordChangedAt'> & { id: string };

/** The sessions among `sessions` that must end, each with the reason to give the client. */
export async function findEndedSessions(db: Db, sessions: readonly Checked[], now = new Date()): Promise<Array<{ id: string; reason: string }>> {
  if (sessions.length === 1) return findEndedSession(db, sessions[0]!, now);
  const userIds = [...new Set(sessions.map((s) => s.userId))];
  const loginIds = [...new Set(sessions.flatMap((s) => (s.loginId === null ? [] : [s.loginId])))];
  const userRows = new Map<number, { disabled: boolean; passwordChangedAt: Date }>();
  for (const ids of chunks(userIds)) {
    const rows = await db.select({ id: users.id, disabled: users.disabled, passwordChangedAt: users.passwordChangedAt }).from(users).where(inArray(users.id, ids));
    for (const r of rows) userRows.set(r.id, r);
  }
  const loginRows = new Map<number, { userId: number; revokedAt: Date | null }>();
  for (const ids of chunks(loginIds)) {
    const rows = await db.select({ id: altLogins.id, userId: altLogins.userId, revokedAt: altLogins.revokedAt }).from(altLogins).where(inArray(altLogins.id, ids));
    for (const r of rows) loginRows.set(r.id, r);
  }
  const ended: Array<{ id: string; reason: string }> = [];
  for (const s of sessions) {
    const reason = reasonToEnd(s, userRows.get(s.userId), s.loginId === null ? undefined : loginRows.get(s.loginId), now);
    if (reason) ended.push({ id: s.id, reason });
  }
  return ended;
}

/**
 * The check every login makes when its session registers: one prepared statement (the user, and the login
 * that opened the session) instead of a query per table, since the client's OK waits for it.
 */
const checkOneQueries = new WeakMap<Db, ReturnType<typeof prepareCheckOne>>();

function prepareCheckOne(db: Db) {
  return db
    .select({ disabled: users.disabled, passwordChangedAt: users.passwordChangedAt, loginUserId: altLogins.userId, revokedAt: altLogins.revokedAt })
    .from(users)
    // No login (main password): a null id matches no row.
    .leftJoin(altLogins, eq(altLogins.id, sql.placeholder('loginId')))
    .where(eq(users.id, sql.placeholder('userId')))
    .prepare('live_session_check');
}

async function findEndedSession(db: Db, s: Checked, now: Date): Promise<Array<{ id: string; reason: string }>> {
  let query = checkOneQueries.get(db);
  if (!query) checkOneQueries.set(db, (query = prepareCheckOne(db)));
  const [row] = await query.execute({ userId: s.userId, loginId: s.loginId });
  const user = row ? { disabled: row.disabled, passwordChangedAt: row.passwordChangedAt } : undefined;
  const login = row && row.loginUserId !== null ? { userId: row.loginUserId, revokedAt: row.revokedAt } : undefined;
  const reason = reasonToEnd(s, user, login, now);
  return reason ? [{ id: s.id, reason }] : [];
}

function reasonToEnd(
  s: Checked,
  user: { disabled: boolean; passwordChangedAt: Date } | undefined,
  login: { userId: number; revokedAt: Date | null } | undefined,
  now: Date,
): string | null {
  if (!user || user.disabled) return END_REASONS.disabled;
  if (s.loginId !== null && (!login || login.revokedAt || login.userId !== s.userId)) return END_REASONS.revoked;
  // The main password authorised it: a change since the version it verified (even one that raced the
  // login) ends it. Without that version, a change after the login began does.
  if (s.loginId === null) {
    const changed = s.passwordChangedAt
      ? user.passwordChangedAt.getTime() !== s.passwordChangedAt.getTime()
      : user.passwordChangedAt.getTime() > s.authStartedAt.getTime();
    if (changed) return END_REASONS.password;
  }
  if (s.validUntil && s.validUntil.getTime() <= now.getTime()) return END_REASONS.window;
  return null;
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += CHUNK) yield items.slice(i, i + CHUNK);
}
