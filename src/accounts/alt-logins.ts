/**
 * Alternative logins (Options → Alternative Logins): alternate passwords and SMS passwords (chosen by the
 * user, stored as argon2id), app passwords (generated, 140 bits, stored as an HMAC found by index) and
 * one-time password lists (generated codes, each stored as an HMAC, optionally behind a base password).
 * Each has a label, services, a restricted flag, created/last-used times and a use count. One-time lists
 * and SMS passwords come in two kinds: single use, or valid for one hour from first use (issue 17, see
 * src/auth/login-windows.ts).
 *
 * Limits, which are also the cost bound of a failed login (see src/auth/authenticate.ts): at most
 * MAX_USER_CHOSEN_ALTERNATES active alternate + SMS passwords per user, because each one may cost an
 * argon2 verification per login attempt; app passwords are capped only to keep lists readable.
 */
import { and, asc, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { audit } from '../audit.js';
import { invalidateUser } from '../auth/auth-cache.js';
import {
  APP_PASSWORD_SYMBOLS,
  OTP_CODE_SYMBOLS,
  canonicalizeGenerated,
  generateAppPassword,
  generateOtpCode,
} from '../auth/generated-secrets.js';
import { keyedHash } from '../auth/keyed-hash.js';
import { sealTotpSecret } from '../auth/totp-seal.js';
import type { AppContext } from '../context.js';
import type { Tx } from '../db/client.js';
import { altLogins, otpCodes, services as allServices, smsChallenges, users, type LoginKind, type Service } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { isUniqueViolation } from '../db/errors.js';
import { endSessionsFor } from '../sessions/end-sessions.js';
import { END_REASONS } from '../sessions/validity.js';
import { assertPasswordAcceptable } from './users.js';

export type AltLogin = typeof altLogins.$inferSelect;

export const MAX_USER_CHOSEN_ALTERNATES = 5;
export const MAX_APP_PASSWORDS = 20;
export const DEFAULT_OTP_COUNT = 100;
export const MAX_OTP_COUNT = 1000;

export const defaultServices: Record<LoginKind, Service[]> = {
  password: ['web', 'imap', 'smtp'],
  sms: ['web', 'imap', 'smtp'],
  app: ['imap', 'smtp'],
  otp: ['web'],
  totp: ['web', 'imap', 'smtp'],
};

/** "web,imap" or ['web','imap'] → deduplicated, validated services (LOGIN_SERVICES_INVALID). */
export function parseServices(input: string | readonly string[]): Service[] {
  const parts = (typeof input === 'string' ? input.split(',') : [...input]).map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (!parts.length || parts.some((s) => !(allServices as readonly string[]).includes(s))) throw new PosternError('LOGIN_SERVICES_INVALID');
  return allServices.filter((s) => parts.includes(s));
}

function normalizeLabel(label: string | undefined, kind: LoginKind): string {
  const fallback = { password: 'Alternate password', sms: 'SMS password', app: 'App password', otp: 'One-time codes', totp: 'Authenticator app' }[kind];
  const text = (label ?? '').replace(/[\p{Cc}]/gu, '').trim() || fallback;
  if (text.length > 80) throw new PosternError('INVALID_INPUT', { message: 'Labels are at most 80 characters long.' });
  return text;
}

interface LoginOptions {
  userId: number;
  label?: string;
  restricted?: boolean;
  services?: readonly string[];
  actorUserId?: number | null;
  /**
   * The random key of the web form that asked for it: the same form sent twice (double click, reload)
   * creates once, and the second send fails with LOGIN_ALREADY_CREATED.
   */
  creationKey?: string;
}

/** The window choices offered: one hour from first use (or none, single use). */
export const VALID_FOR_CHOICES = { '1h': 3600 } as const;

/** "1h" → 3600; anything else is refused with the choices (INVALID_INPUT). */
export function parseValidFor(input: string): number {
  const seconds = (VALID_FOR_CHOICES as Record<string, number>)[input.trim().toLowerCase()];
  if (!seconds) throw new PosternError('INVALID_INPUT', { message: 'The only validity offered is 1h (one hour from first use).' });
  return seconds;
}

function checkValidFor(seconds: number | null | undefined): number | null {
  if (seconds === undefined || seconds === null) return null;
  if (!Object.values(VALID_FOR_CHOICES).includes(seconds as 3600)) throw new PosternError('INVALID_INPUT', { message: 'The only validity offered is one hour from first use.' });
  return seconds;
}

/** A chosen secret must not be the main password, which is tried first and is never restricted. */
async function assertNotMainPassword(ctx: AppContext, userId: number, secret: string): Promise<void> {
  const [user] = await ctx.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  if (!user) throw new PosternError('USER_NOT_FOUND');
  if (user.passwordHash && (await ctx.hasher.verify(user.passwordHash, secret))) throw new PosternError('ALTERNATE_SAME_AS_MAIN');
}

/** Runs a creation; a second creation from the same form (same key) is LOGIN_ALREADY_CREATED. */
async function once<T>(key: string | undefined, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (e) {
    if (key && isUniqueViolation(e)) throw new PosternError('LOGIN_ALREADY_CREATED');
    throw e;
  }
}

/** Serialises concurrent creations for one user, so the caps hold. */
async function lockUser(tx: Tx, userId: number): Promise<void> {
  const rows = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
  if (!rows.length) throw new PosternError('USER_NOT_FOUND');
}

async function countActive(tx: Tx, userId: number, kinds: LoginKind[]): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(altLogins)
    .where(and(eq(altLogins.userId, userId), inArray(altLogins.kind, kinds), isNull(altLogins.revokedAt)));
  return row!.n;
}

async function insertLogin(
  tx: Tx,
  kind: LoginKind,
  options: LoginOptions,
  secretHash: string | null,
  validForSeconds: number | null = null,
  /** Columns only some kinds have (a TOTP login's sealed secret), written in the same insert. */
  extra: Pick<typeof altLogins.$inferInsert, 'totpSecret' | 'totpLastStep'> = {},
): Promise<AltLogin> {
  const services = options.services ? parseServices(options.services) : defaultServices[kind];
  const [row] = await tx
    .insert(altLogins)
    .values({
      userId: options.userId,
      kind,
      label: normalizeLabel(options.label, kind),
      restricted: options.restricted ?? false,
      services,
      secretHash,
      validForSeconds,
      creationKey: options.creationKey || null,
      ...extra,
    })
    .returning();
  await audit(tx, {
    event: 'altlogin.created',
    userId: options.userId,
    actorUserId: options.actorUserId ?? options.userId,
    details: { loginId: row!.id, kind, label: row!.label, restricted: row!.restricted, services, validForSeconds, basePassword: kind === 'otp' && secretHash !== null },
  });
  return row!;
}

/**
 * An alternate password or an SMS password, chosen by the user. It must differ from the main password:
 * the main password is tried first and is never restricted, so a "restricted" copy of it would not be.
 */
export async function createUserChosenLogin(
  ctx: AppContext,
  input: LoginOptions & { kind: 'password' | 'sms'; secret: string; validForSeconds?: number | null },
): Promise<AltLogin> {
  if (input.kind === 'password' && input.validForSeconds) throw new PosternError('INVALID_INPUT', { message: 'Only one-time lists and SMS passwords can be valid for one hour.' });
  return insertChosenLogin(ctx, input.kind, input, checkValidFor(input.validForSeconds));
}

/**
 * The steps every login with a password the user chose shares: the password rules, never the main
 * password, one argon2 hash, and the cap on such logins checked under the user's lock.
 */
async function insertChosenLogin(
  ctx: AppContext,
  kind: 'password' | 'sms' | 'totp',
  input: LoginOptions & { secret: string },
  validFor: number | null,
  extra: Parameters<typeof insertLogin>[5] = {},
): Promise<AltLogin> {
  assertPasswordAcceptable(input.secret);
  await assertNotMainPassword(ctx, input.userId, input.secret);
  const secretHash = await ctx.hasher.hash(input.secret);
  return once(input.creationKey, () =>
    ctx.db.transaction(async (tx) => {
      await lockUser(tx, input.userId);
      if ((await countActive(tx, input.userId, USER_CHOSEN_KINDS)) >= MAX_USER_CHOSEN_ALTERNATES) throw new PosternError('TOO_MANY_LOGINS');
      return insertLogin(tx, kind, input, secretHash, validFor, extra);
    }),
  );
}

/** Kinds whose chosen password costs an argon2 verification per failed login: capped together. */
const USER_CHOSEN_KINDS: LoginKind[] = ['password', 'sms', 'totp'];

/**
 * An authenticator-app login (src/auth/totp-logins.ts): a chosen password, then the app's code. The app's
 * secret is stored sealed (src/auth/totp-seal.ts); `confirmedStep` is the time step of the code that
 * confirmed the enrolment, so that code cannot also open a session.
 */
export async function createTotpLogin(
  ctx: AppContext,
  input: LoginOptions & { secret: string; totpSecret: Buffer; confirmedStep?: number | null },
): Promise<AltLogin> {
  return insertChosenLogin(ctx, 'totp', input, null, {
    totpSecret: sealTotpSecret(ctx.secretKey, input.userId, input.totpSecret),
    totpLastStep: input.confirmedStep ?? null,
  });
}

/** The keyed hash an app password is stored and found by. */
export function appPasswordHash(ctx: Pick<AppContext, 'secretKey'>, userId: number, canonical: string): string {
  return keyedHash(ctx.secretKey, 'app-password', userId, canonical);
}

/** The keyed hash a one-time code is stored and found by. */
export function otpCodeHash(ctx: Pick<AppContext, 'secretKey'>, userId: number, canonical: string): string {
  return keyedHash(ctx.secretKey, 'otp-code', userId, canonical);
}

/** A generated app password, returned once in clear (never stored). */
export async function createAppPassword(ctx: AppContext, input: LoginOptions): Promise<{ login: AltLogin; secret: string }> {
  const secret = generateAppPassword();
  const secretHash = appPasswordHash(ctx, input.userId, canonicalizeGenerated(secret, APP_PASSWORD_SYMBOLS)!);
  const login = await once(input.creationKey, () =>
    ctx.db.transaction(async (tx) => {
      await lockUser(tx, input.userId);
      if ((await countActive(tx, input.userId, ['app'])) >= MAX_APP_PASSWORDS) throw new PosternError('TOO_MANY_LOGINS');
      return insertLogin(tx, 'app', input, secretHash);
    }),
  );
  return { login, secret };
}

export interface OneTimeCode {
  n: number;
  code: string;
}

/**
 * A new one-time password list of `count` numbered codes, returned once for printing. It voids the user's
 * previous lists in the same transaction. `validForSeconds` (3600): each code, once used, works for an
 * hour. `basePassword`: each code must be typed after it (stored as argon2id, never printed).
 */
export async function createOneTimeList(
  ctx: AppContext,
  input: LoginOptions & { count?: number; validForSeconds?: number | null; basePassword?: string | null; recovery?: boolean },
): Promise<{ login: AltLogin; codes: OneTimeCode[] }> {
  const n = input.count ?? DEFAULT_OTP_COUNT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_OTP_COUNT)
    throw new PosternError('INVALID_INPUT', { message: `A list has between 1 and ${MAX_OTP_COUNT} codes.` });
  const validFor = checkValidFor(input.validForSeconds);
  let baseHash: string | null = null;
  if (input.basePassword) {
    assertPasswordAcceptable(input.basePassword);
    await assertNotMainPassword(ctx, input.userId, input.basePassword);
    baseHash = await ctx.hasher.hash(input.basePassword);
  }
  const codes: OneTimeCode[] = [];
  const seen = new Set<string>();
  while (codes.length < n) {
    const code = generateOtpCode();
    const canonical = canonicalizeGenerated(code, OTP_CODE_SYMBOLS)!;
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    codes.push({ n: codes.length + 1, code });
  }
  const voidedIds: number[] = [];
  const login = await once(input.creationKey, () => ctx.db.transaction(async (tx) => {
    voidedIds.length = 0;
    await lockUser(tx, input.userId);
    const voided = await tx
      .update(altLogins)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(altLogins.userId, input.userId), eq(altLogins.kind, 'otp'), isNull(altLogins.revokedAt)))
      .returning({ id: altLogins.id });
    voidedIds.push(...voided.map((v) => v.id));
    for (const v of voided) await audit(tx, { event: 'altlogin.revoked', userId: input.userId, actorUserId: input.actorUserId ?? input.userId, details: { loginId: v.id, kind: 'otp', reason: 'replaced' } });
    const inserted = await insertLogin(tx, 'otp', input, baseHash, validFor);
    // The recovery path for a lost phone (issue 16): its uses are audited apart, so the owner hears of them.
    const row = input.recovery ? (await tx.update(altLogins).set({ recovery: true }).where(eq(altLogins.id, inserted.id)).returning())[0]! : inserted;
    // A code collision with an older list of this user is ~2^-50 per pair; the unique index would reject it.
    await tx.insert(otpCodes).values(
      codes.map((c) => ({ loginId: row.id, userId: input.userId, n: c.n, codeHash: otpCodeHash(ctx, input.userId, canonicalizeGenerated(c.code, OTP_CODE_SYMBOLS)!) })),
    );
    return row;
  }));
  // The replaced list's sessions (a 1-hour code may still be open somewhere) end with it.
  if (voidedIds.length) await invalidateUser(ctx, input.userId);
  for (const id of voidedIds) await endSessionsFor(ctx, { userId: input.userId, loginId: id }, END_REASONS.revoked);
  return { login, codes };
}

export interface AltLoginSummary extends Omit<AltLogin, 'secretHash' | 'creationKey' | 'totpSecret'> {
  /** One-time lists only: codes not used yet. */
  remainingCodes: number | null;
  totalCodes: number | null;
  /** One-time lists only: each code is typed after a base password. */
  hasBasePassword: boolean;
}

/** The user's alternative logins, newest first; revoked ones only when asked. */
export async function listAltLogins(ctx: AppContext, userId: number, options: { includeRevoked?: boolean } = {}): Promise<AltLoginSummary[]> {
  const rows = await ctx.db
    .select()
    .from(altLogins)
    .where(and(eq(altLogins.userId, userId), options.includeRevoked ? undefined : isNull(altLogins.revokedAt)))
    .orderBy(asc(altLogins.id));
  const otpIds = rows.filter((r) => r.kind === 'otp').map((r) => r.id);
  const counts = otpIds.length
    ? await ctx.db
        .select({
          loginId: otpCodes.loginId,
          total: count(),
          remaining: sql<number>`count(*) filter (where ${otpCodes.usedAt} is null)`.mapWith(Number),
        })
        .from(otpCodes)
        .where(inArray(otpCodes.loginId, otpIds))
        .groupBy(otpCodes.loginId)
    : [];
  return rows.map(({ secretHash, creationKey: _key, totpSecret: _sealed, ...r }) => {
    const c = counts.find((x) => x.loginId === r.id);
    return {
      ...r,
      remainingCodes: r.kind === 'otp' ? (c?.remaining ?? 0) : null,
      totalCodes: r.kind === 'otp' ? (c?.total ?? 0) : null,
      hasBasePassword: r.kind === 'otp' && secretHash !== null,
    };
  });
}

export async function findAltLogin(ctx: Pick<AppContext, 'db'>, loginId: number): Promise<AltLogin | null> {
  const [row] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, loginId));
  return row ?? null;
}

/**
 * Revokes a login (`userId` given: only if it is theirs). Pending SMS codes for it are voided, cached mail
 * logins of the user end now, and so does every session the login opened (IMAP/SMTP on every instance,
 * web). Revoking twice is not an error (and ends anything left, again).
 */
export async function revokeAltLogin(
  ctx: AppContext,
  input: { loginId: number; userId?: number; actorUserId?: number | null },
): Promise<AltLogin> {
  const login = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(altLogins)
      .where(and(eq(altLogins.id, input.loginId), input.userId !== undefined ? eq(altLogins.userId, input.userId) : undefined))
      .for('update');
    if (!row) throw new PosternError('LOGIN_NOT_FOUND');
    if (row.revokedAt) return row;
    const [revoked] = await tx.update(altLogins).set({ revokedAt: sql`now()` }).where(eq(altLogins.id, row.id)).returning();
    await tx
      .update(smsChallenges)
      .set({ voidedAt: sql`now()` })
      .where(and(eq(smsChallenges.loginId, row.id), isNull(smsChallenges.consumedAt), isNull(smsChallenges.voidedAt)));
    await audit(tx, {
      event: 'altlogin.revoked',
      userId: row.userId,
      actorUserId: input.actorUserId ?? input.userId ?? null,
      details: { loginId: row.id, kind: row.kind, label: row.label },
    });
    return revoked!;
  });
  await invalidateUser(ctx, login.userId);
  await endSessionsFor(ctx, { userId: login.userId, loginId: login.id }, END_REASONS.revoked);
  return login;
}
