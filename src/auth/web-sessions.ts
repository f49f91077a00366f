/**
 * Web sessions, stored in the database so several instances share them (after Lucia's `auth_session`).
 *
 * A token is `id.secret`: the id (128 random bits) finds the row, the secret (256 random bits) proves
 * possession; only SHA-256(secret) is stored, so a stolen database yields no live cookie, and the hash is
 * compared in constant time. A session ends when it is revoked (logout, "sign out"), after its idle timeout
 * (30 minutes; 10 for one-time codes and SMS passwords, which are used on untrusted machines), after its
 * absolute lifetime (12 hours), or at once when its user is disabled or the alternative login that made it
 * is revoked. `lastSeenAt` slides, but is written at most once a minute so reading a page costs no write.
 */
import crypto from 'node:crypto';
import { and, desc, eq, gt, isNull, ne, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { altLogins, groupMembers, groups, users, webSessions } from '../db/schema.js';
import { PosternError } from '../errors.js';
import type { AuthMethod } from './types.js';

export type WebSessionRow = typeof webSessions.$inferSelect;

export const IDLE_TIMEOUT_SECONDS = 30 * 60;
/** One-time codes and SMS passwords are for machines nobody trusts: a walk-away ends sooner. */
export const KIOSK_IDLE_TIMEOUT_SECONDS = 10 * 60;
export const ABSOLUTE_LIFETIME_SECONDS = 12 * 60 * 60;
/** Sliding expiry: lastSeenAt is rewritten only when older than this. */
export const TOUCH_INTERVAL_SECONDS = 60;
/** Changes in Options need the main password re-entered within this window. */
export const STEP_UP_WINDOW_SECONDS = 5 * 60;

/** A valid session as the web sees it. */
export interface WebSession {
  id: string;
  userId: number;
  username: string;
  upstreamUser: string;
  loginId: number | null;
  method: AuthMethod;
  /** The label of the alternative login that made the session (null for the main password). */
  loginLabel: string | null;
  restricted: boolean;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  idleTimeoutSeconds: number;
  reauthAt: Date | null;
  /**
   * The user still has the initial password an administrator gave them and this session was made with it
   * (the main password, unrestricted): the web shows nothing but "Choose your password". Read from the user
   * on every request, so choosing it frees every such session at once.
   */
  mustChoosePassword: boolean;
}

export interface NewWebSession {
  userId: number;
  loginId: number | null;
  method: AuthMethod;
  restricted: boolean;
  ip?: string | null;
  userAgent?: string | null;
}

function randomToken(bytes: number): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings of possibly different lengths (compares fixed-size digests). */
export function equalSecrets(a: string, b: string): boolean {
  const da = crypto.createHash('sha256').update(a, 'utf8').digest();
  const db = crypto.createHash('sha256').update(b, 'utf8').digest();
  return crypto.timingSafeEqual(da, db);
}

export function idleTimeoutFor(method: AuthMethod): number {
  return method === 'otp' || method === 'sms' || method === 'totp' ? KIOSK_IDLE_TIMEOUT_SECONDS : IDLE_TIMEOUT_SECONDS;
}

/** Splits `id.secret`; anything else (or absurdly long input) is null. */
function parseToken(token: string): { id: string; secret: string } | null {
  if (token.length > 200) return null;
  const m = /^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{16,128})$/.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Creates a session and returns its token (shown to the browser once, in the cookie). */
export async function createWebSession(
  ctx: Pick<AppContext, 'db'>,
  input: NewWebSession & { expiresAt?: Date; reauthAt?: Date | null },
): Promise<{ token: string; id: string }> {
  const id = randomToken(16);
  const secret = randomToken(32);
  await ctx.db.insert(webSessions).values({
    id,
    secretHash: hashSecret(secret),
    userId: input.userId,
    loginId: input.loginId,
    method: input.method,
    restricted: input.restricted,
    csrfToken: randomToken(32),
    ip: input.ip?.slice(0, 64) ?? null,
    userAgent: input.userAgent?.slice(0, 300) ?? null,
    idleTimeoutSeconds: idleTimeoutFor(input.method),
    expiresAt: input.expiresAt ?? sql`now() + make_interval(secs => ${ABSOLUTE_LIFETIME_SECONDS})`,
    reauthAt: input.reauthAt ?? null,
  });
  return { token: `${id}.${secret}`, id };
}

/** The business or family of the session's user, read with the session (one query per request). */
export interface SessionGroup {
  id: number;
  name: string;
  kind: 'business' | 'family';
  allowSms: boolean;
  isAdmin: boolean;
}

export type SessionLookup =
  | { ok: true; session: WebSession; group: SessionGroup | null }
  /** `userId` is known when the token named a real session (a replay after logout, an expired one …). */
  | { ok: false; reason: 'malformed' | 'unknown' | 'bad-secret' | 'revoked' | 'expired' | 'idle' | 'login-revoked' | 'user-disabled'; userId: number | null };

/**
 * Every page view runs this lookup, so it is as cheap as we could make it: a prepared statement (one per
 * database: drizzle builds the SQL once) calling `postern_web_session()` (drizzle/0009), a PL/pgSQL
 * function whose query is planned once per connection. That matters most on PGlite, which keeps no plans
 * for prepared statements: the same query inline cost ~0.9 ms a request there, the function ~0.2 ms.
 */
const lookupQueries = new WeakMap<Db, ReturnType<typeof prepareLookup>>();

/** One column of the function's result, decoded as the schema column `like` is (timestamps to Date …). */
function out<C extends AnyColumn>(name: string, like: C) {
  return sql`${sql.identifier(name)}`.mapWith(like) as SQL<C['_']['data']>;
}

/** The same, for a column that is null when the row has no match (the LEFT JOINs). */
function outOrNull<C extends AnyColumn>(name: string, like: C) {
  return out(name, like) as SQL<C['_']['data'] | null>;
}

function prepareLookup(db: Db) {
  return db
    .select({
      s: {
        id: out('id', webSessions.id),
        secretHash: out('secret_hash', webSessions.secretHash),
        userId: out('user_id', webSessions.userId),
        loginId: outOrNull('login_id', webSessions.loginId),
        method: out('method', webSessions.method),
        restricted: out('restricted', webSessions.restricted),
        csrfToken: out('csrf_token', webSessions.csrfToken),
        createdAt: out('created_at', webSessions.createdAt),
        lastSeenAt: out('last_seen_at', webSessions.lastSeenAt),
        idleTimeoutSeconds: out('idle_timeout_seconds', webSessions.idleTimeoutSeconds),
        expiresAt: out('expires_at', webSessions.expiresAt),
        reauthAt: outOrNull('reauth_at', webSessions.reauthAt),
        revokedAt: outOrNull('revoked_at', webSessions.revokedAt),
      },
      username: out('username', users.username),
      upstreamUser: out('upstream_user', users.upstreamUser),
      disabled: out('disabled', users.disabled),
      mustChangePassword: out('must_change_password', users.mustChangePassword),
      loginLabel: outOrNull('login_label', altLogins.label),
      loginRevokedAt: outOrNull('login_revoked_at', altLogins.revokedAt),
      groupId: outOrNull('group_id', groups.id),
      groupName: outOrNull('group_name', groups.name),
      groupKind: outOrNull('group_kind', groups.kind),
      groupAllowSms: outOrNull('group_allow_sms', groups.allowSms),
      groupIsAdmin: outOrNull('group_is_admin', groupMembers.isAdmin),
      now: out('now', webSessions.createdAt),
    })
    .from(sql`postern_web_session(${sql.placeholder('id')})`)
    .prepare('web_session_lookup');
}

/**
 * Checks a token. One query (session, user and the login that made it); a write at most once a minute to
 * slide the idle timeout.
 */
export async function validateWebSession(ctx: Pick<AppContext, 'db'>, token: string): Promise<SessionLookup> {
  const parsed = parseToken(token);
  if (!parsed) return { ok: false, reason: 'malformed', userId: null };
  let lookup = lookupQueries.get(ctx.db);
  if (!lookup) lookupQueries.set(ctx.db, (lookup = prepareLookup(ctx.db)));
  const [row] = await lookup.execute({ id: parsed.id });
  if (!row) return { ok: false, reason: 'unknown', userId: null };
  const s = row.s;
  if (!equalSecrets(hashSecret(parsed.secret), s.secretHash)) return { ok: false, reason: 'bad-secret', userId: null };
  const now = row.now.getTime();
  const fail = (reason: Exclude<SessionLookup, { ok: true }>['reason']) => ({ ok: false as const, reason, userId: s.userId });
  if (s.revokedAt) return fail('revoked');
  if (s.expiresAt.getTime() <= now) return fail('expired');
  if (s.lastSeenAt.getTime() + s.idleTimeoutSeconds * 1000 <= now) return fail('idle');
  if (row.disabled) return fail('user-disabled');
  if (s.loginId !== null && (row.loginRevokedAt || row.loginLabel === null)) return fail('login-revoked');

  let lastSeenAt = s.lastSeenAt;
  if (now - s.lastSeenAt.getTime() >= TOUCH_INTERVAL_SECONDS * 1000) {
    lastSeenAt = new Date(now);
    await ctx.db.update(webSessions).set({ lastSeenAt: sql`now()` }).where(eq(webSessions.id, s.id));
  }
  return {
    ok: true,
    session: {
      id: s.id,
      userId: s.userId,
      username: row.username,
      upstreamUser: row.upstreamUser,
      loginId: s.loginId,
      method: s.method as AuthMethod,
      loginLabel: row.loginLabel,
      restricted: s.restricted,
      csrfToken: s.csrfToken,
      createdAt: s.createdAt,
      lastSeenAt,
      expiresAt: s.expiresAt,
      idleTimeoutSeconds: s.idleTimeoutSeconds,
      reauthAt: s.reauthAt,
      mustChoosePassword: row.mustChangePassword && s.method === 'main' && s.loginId === null && !s.restricted,
    },
    group:
      row.groupId === null || row.groupName === null || row.groupKind === null
        ? null
        : { id: row.groupId, name: row.groupName, kind: row.groupKind, allowSms: row.groupAllowSms ?? false, isAdmin: row.groupIsAdmin ?? false },
  };
}

/** Ends one session (logout). `userId` given: only if it is theirs. Returns whether a live session ended. */
export async function revokeWebSession(ctx: Pick<AppContext, 'db'>, id: string, userId?: number): Promise<boolean> {
  const rows = await ctx.db
    .update(webSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(webSessions.id, id), isNull(webSessions.revokedAt), userId !== undefined ? eq(webSessions.userId, userId) : undefined))
    .returning({ id: webSessions.id });
  return rows.length > 0;
}

/** "Sign out everywhere else": ends every live session of the user except `keepId`. Returns how many. */
export async function revokeOtherWebSessions(ctx: Pick<AppContext, 'db'>, userId: number, keepId: string): Promise<number> {
  const rows = await ctx.db
    .update(webSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(webSessions.userId, userId), ne(webSessions.id, keepId), isNull(webSessions.revokedAt)))
    .returning({ id: webSessions.id });
  return rows.length;
}

/** Ends every session of a user (password change by an administrator, account disabled …). */
export async function revokeAllWebSessions(ctx: Pick<AppContext, 'db'>, userId: number): Promise<number> {
  const rows = await ctx.db
    .update(webSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(webSessions.userId, userId), isNull(webSessions.revokedAt)))
    .returning({ id: webSessions.id });
  return rows.length;
}

export interface ActiveSessionSummary {
  id: string;
  /** The alternative login that made it; null for the main password. */
  loginId: number | null;
  method: AuthMethod;
  restricted: boolean;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

/** The user's live sessions (Options → Security), most recently used first. */
export async function listActiveWebSessions(ctx: Pick<AppContext, 'db'>, userId: number): Promise<ActiveSessionSummary[]> {
  const rows = await ctx.db
    .select()
    .from(webSessions)
    .where(
      and(
        eq(webSessions.userId, userId),
        isNull(webSessions.revokedAt),
        gt(webSessions.expiresAt, sql`now()`),
        sql`${webSessions.lastSeenAt} + make_interval(secs => ${webSessions.idleTimeoutSeconds}) > now()`,
      ),
    )
    .orderBy(desc(webSessions.lastSeenAt));
  return rows.map((r) => ({
    id: r.id,
    loginId: r.loginId,
    method: r.method as AuthMethod,
    restricted: r.restricted,
    ip: r.ip,
    userAgent: r.userAgent,
    createdAt: r.createdAt,
    lastSeenAt: r.lastSeenAt,
  }));
}

/**
 * Step-up: after the main password was re-entered, the session is replaced by a new one (new token, new
 * CSRF token, reauthAt = now) with the same login facts and the same absolute expiry; the old token dies.
 */
export async function rotateWebSession(
  ctx: Pick<AppContext, 'db'>,
  session: WebSession,
  input: { ip?: string | null; userAgent?: string | null; reauthenticated: boolean },
): Promise<{ token: string; id: string }> {
  return ctx.db.transaction(async (tx) => {
    const revoked = await tx
      .update(webSessions)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(webSessions.id, session.id), isNull(webSessions.revokedAt)))
      .returning({ id: webSessions.id });
    // Two concurrent rotations of one token: only one may mint a successor.
    if (!revoked.length) throw new PosternError('FORBIDDEN', { context: { reason: 'session already ended' } });
    return createWebSession(
      { db: tx as unknown as AppContext['db'] },
      {
        userId: session.userId,
        loginId: session.loginId,
        method: session.method,
        restricted: session.restricted,
        ip: input.ip,
        userAgent: input.userAgent,
        expiresAt: session.expiresAt,
        reauthAt: input.reauthenticated ? new Date() : session.reauthAt,
      },
    );
  });
}

/** Whether the main password was re-entered in this session within the step-up window. */
export function hasRecentStepUp(session: Pick<WebSession, 'reauthAt'>, now = new Date()): boolean {
  return session.reauthAt !== null && now.getTime() - session.reauthAt.getTime() < STEP_UP_WINDOW_SECONDS * 1000;
}
