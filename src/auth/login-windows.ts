/**
 * One-time codes and the 1-hour windows of one-time and SMS logins (issue 17).
 *
 * A login with `validForSeconds` (3600) lets a code, once used, open further sessions until a fixed time:
 * first use + one hour, never sliding. Mail clients need this: they reconnect and open parallel
 * connections with the password they saved. The window is a fact of the database row (otp_codes.used_at,
 * sms_challenges.consumed_at) judged by the database's clock (src/clock.ts), so every instance agrees, and
 * concurrent first uses start exactly one window: one guarded `UPDATE … WHERE used_at IS NULL` wins, the
 * others find the window it opened. Revoking the login ends the window at once (every check re-reads
 * `revoked_at` in the same statement). The first use counts as the login's one use (`login.succeeded`,
 * use count + 1); each reconnect is recorded as `login.resumed` and costs no SMS credit.
 *
 * Base password: a one-time list may have one (argon2id in alt_logins.secret_hash). Each code is then
 * typed after it, `base` + `code`, no separator. The lookup stays one keyed-hash probe of the code part,
 * followed by exactly one verification of the base whether or not the code exists, so a wrong base and a
 * wrong code cost the same time.
 */
import { and, eq, gt, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { otpCodeHash } from '../accounts/alt-logins.js';
import { audit } from '../audit.js';
import { nowSql } from '../clock.js';
import type { AppContext } from '../context.js';
import { altLogins, otpCodes, smsChallenges } from '../db/schema.js';
import { OTP_CODE_SYMBOLS, canonicalizeGenerated } from './generated-secrets.js';
import { equalDigests } from './keyed-hash.js';
import type { Attempt } from './login-outcome.js';
import { smsCodeHash, SMS_CODE_MAX_ATTEMPTS } from './sms-challenges.js';
import { recordSuccess } from './throttle.js';
import type { AuthMethod, AuthSuccess } from './types.js';

type AltLogin = typeof altLogins.$inferSelect;
type Challenge = typeof smsChallenges.$inferSelect;

/** The only window offered: one hour from first use. */
export const ONE_HOUR_SECONDS = 3600;

export interface WindowUse {
  startedAt: Date;
  endsAt: Date;
  /** This attempt opened the window (the login's one use); false for a reconnect inside it. */
  first: boolean;
}

function windowFrom(startedAt: Date, login: Pick<AltLogin, 'validForSeconds'>, first: boolean): WindowUse {
  return { startedAt, endsAt: new Date(startedAt.getTime() + (login.validForSeconds ?? 0) * 1000), first };
}

const notRevoked = (loginId: number) => sql`exists (select 1 from ${altLogins} where ${altLogins.id} = ${loginId} and ${altLogins.revokedAt} is null)`;

/**
 * "base" + "code": the code is the last ten code symbols typed (dashes and spaces inside it ignored, as
 * on paper), the base everything before them, exactly as typed. Null when the end is not code-shaped.
 */
export function splitBaseAndCode(secret: string): { base: string; code: string } | null {
  let symbols = '';
  let i = secret.length;
  while (i > 0 && symbols.length < OTP_CODE_SYMBOLS) {
    const ch = secret[--i]!;
    if (ch !== '-' && !/\s/.test(ch)) symbols = ch + symbols;
  }
  const code = symbols.length === OTP_CODE_SYMBOLS ? canonicalizeGenerated(symbols, OTP_CODE_SYMBOLS) : null;
  return code ? { base: secret.slice(0, i), code } : null;
}

/** Whether a typed password looks like a code from a printed list (decided from its shape alone). */
export function looksLikeOneTimeCode(secret: string): boolean {
  return canonicalizeGenerated(secret, OTP_CODE_SYMBOLS) !== null || /[0-9A-Za-z]{5}-[0-9A-Za-z]{5}\s*$/.test(secret);
}

/**
 * Tries `secret` as a code of the user's one-time list: one keyed-hash probe, then (base-password lists)
 * one argon2 verification of the base, then the guarded use. Null when it is not a usable code.
 */
export async function useOneTimeCode(
  ctx: AppContext,
  userId: number,
  secret: string,
  list: AltLogin,
): Promise<{ login: AltLogin; window: WindowUse | null } | null> {
  const parts = list.secretHash ? splitBaseAndCode(secret) : { base: '', code: canonicalizeGenerated(secret, OTP_CODE_SYMBOLS) };
  if (!parts?.code) return null;
  const [row] = await ctx.db
    .select({ id: otpCodes.id })
    .from(otpCodes)
    .where(and(eq(otpCodes.userId, userId), eq(otpCodes.codeHash, otpCodeHash(ctx, userId, parts.code)), eq(otpCodes.loginId, list.id)));
  // Verified whether or not the code exists: the time of a wrong base equals the time of a wrong code.
  if (list.secretHash && !(await ctx.hasher.verify(list.secretHash, parts.base))) return null;
  if (!row) return null;
  const now = nowSql(ctx);
  // `UPDATE … WHERE used_at IS NULL RETURNING`: the database decides who used it first.
  const [first] = await ctx.db
    .update(otpCodes)
    .set({ usedAt: now })
    .where(and(eq(otpCodes.id, row.id), isNull(otpCodes.usedAt), notRevoked(list.id)))
    .returning({ usedAt: otpCodes.usedAt });
  if (first) return { login: list, window: list.validForSeconds ? windowFrom(first.usedAt!, list, true) : null };
  if (!list.validForSeconds) return null;
  const [open] = await ctx.db
    .select({ usedAt: otpCodes.usedAt })
    .from(otpCodes)
    .where(and(eq(otpCodes.id, row.id), sql`${otpCodes.usedAt} + make_interval(secs => ${list.validForSeconds}) > ${now}`, notRevoked(list.id)));
  return open ? { login: list, window: windowFrom(open.usedAt!, list, false) } : null;
}

const openSmsWindow = (ctx: AppContext, login: Pick<AltLogin, 'id' | 'validForSeconds'>) =>
  and(
    eq(smsChallenges.loginId, login.id),
    isNotNull(smsChallenges.consumedAt),
    isNull(smsChallenges.voidedAt),
    lt(smsChallenges.attempts, SMS_CODE_MAX_ATTEMPTS),
    sql`${smsChallenges.consumedAt} + make_interval(secs => ${login.validForSeconds ?? 0}) > ${nowSql(ctx)}`,
    notRevoked(login.id),
  );

/** The SMS logins among `logins` whose used code still opens sessions (1-hour SMS passwords only). */
export async function loginsWithOpenSmsWindow(ctx: AppContext, logins: AltLogin[]): Promise<Set<number>> {
  const windowed = logins.filter((l) => l.kind === 'sms' && l.validForSeconds);
  if (!windowed.length) return new Set();
  const found = new Set<number>();
  for (const login of windowed) {
    const [row] = await ctx.db.select({ id: smsChallenges.id }).from(smsChallenges).where(openSmsWindow(ctx, login)).limit(1);
    if (row) found.add(login.id);
  }
  return found;
}

/** The window a just-consumed SMS challenge opens, when its login has one. */
export function smsWindowOf(challenge: Pick<Challenge, 'consumedAt'>, login: Pick<AltLogin, 'validForSeconds'>): WindowUse | null {
  return login.validForSeconds && challenge.consumedAt ? windowFrom(challenge.consumedAt, login, true) : null;
}

/**
 * "SMS password + code" again within the hour (the password is already verified): the code must be the
 * one that opened the window. Wrong codes count on the challenge, which is void after five.
 */
export async function useSmsWindowCode(ctx: AppContext, login: AltLogin, code: string): Promise<{ window: WindowUse; challengeId: number } | null> {
  const [c] = await ctx.db.select().from(smsChallenges).where(openSmsWindow(ctx, login)).orderBy(sql`${smsChallenges.id} desc`).limit(1);
  if (!c) return null;
  const typed = code.replace(/\s/g, '');
  if (/^\d+$/.test(typed) && equalDigests(smsCodeHash(ctx, login.id, typed), c.codeHash))
    return { window: windowFrom(c.consumedAt!, login, false), challengeId: c.id };
  const [counted] = await ctx.db
    .update(smsChallenges)
    .set({ attempts: sql`${smsChallenges.attempts} + 1` })
    .where(eq(smsChallenges.id, c.id))
    .returning({ attempts: smsChallenges.attempts });
  if (counted && counted.attempts >= SMS_CODE_MAX_ATTEMPTS)
    await ctx.db.update(smsChallenges).set({ voidedAt: sql`now()` }).where(and(eq(smsChallenges.id, c.id), isNull(smsChallenges.voidedAt)));
  return null;
}

/**
 * A new web sign-in in the browser that used the SMS code (it remembers the challenge in a signed
 * cookie; the SMS password is already verified): no new SMS while that window is open.
 */
export async function resumeSmsWindow(ctx: AppContext, login: AltLogin, challengeId: number): Promise<WindowUse | null> {
  if (!login.validForSeconds) return null;
  const [c] = await ctx.db
    .select({ consumedAt: smsChallenges.consumedAt })
    .from(smsChallenges)
    .where(and(eq(smsChallenges.id, challengeId), openSmsWindow(ctx, login)));
  return c ? windowFrom(c.consumedAt!, login, false) : null;
}

/** The open windows of one-time lists and SMS logins, for "valid until HH:MM" on the list page. */
export async function listOpenWindows(
  ctx: AppContext,
  logins: Array<Pick<AltLogin, 'id' | 'kind' | 'validForSeconds' | 'revokedAt'>>,
): Promise<Map<number, Date>> {
  const out = new Map<number, Date>();
  const now = nowSql(ctx);
  const otp = logins.filter((l) => l.kind === 'otp' && l.validForSeconds && !l.revokedAt);
  if (otp.length) {
    const rows = await ctx.db
      .select({ loginId: otpCodes.loginId, endsAt: sql<string>`max(${otpCodes.usedAt} + make_interval(secs => ${ONE_HOUR_SECONDS}))` })
      .from(otpCodes)
      .where(and(inArray(otpCodes.loginId, otp.map((l) => l.id)), isNotNull(otpCodes.usedAt), sql`${otpCodes.usedAt} + make_interval(secs => ${ONE_HOUR_SECONDS}) > ${now}`))
      .groupBy(otpCodes.loginId);
    for (const r of rows) out.set(r.loginId, new Date(r.endsAt));
  }
  for (const login of logins.filter((l) => l.kind === 'sms' && l.validForSeconds && !l.revokedAt)) {
    const [row] = await ctx.db
      .select({ consumedAt: smsChallenges.consumedAt })
      .from(smsChallenges)
      .where(and(openSmsWindow(ctx, login), gt(smsChallenges.consumedAt, sql`${now} - make_interval(secs => ${login.validForSeconds})`)))
      .orderBy(sql`${smsChallenges.id} desc`)
      .limit(1);
    if (row?.consumedAt) out.set(login.id, new Date(row.consumedAt.getTime() + login.validForSeconds! * 1000));
  }
  return out;
}

/**
 * A reconnect inside an open window: a session, not a new use. The throttle counters clear as after any
 * success; the login's last-used time moves, its use count does not.
 */
export async function recordWindowReuse(
  ctx: AppContext,
  attempt: Attempt,
  who: { userId: number; username: string; upstreamUser: string; groupId?: number | null },
  login: { id: number; restricted: boolean },
  method: AuthMethod,
  window: WindowUse,
): Promise<AuthSuccess> {
  await Promise.all([
    recordSuccess(ctx, attempt),
    ctx.db.update(altLogins).set({ lastUsedAt: sql`now()` }).where(eq(altLogins.id, login.id)),
    audit(ctx.db, {
      event: 'login.resumed',
      userId: who.userId,
      groupId: who.groupId ?? null,
      ip: attempt.ip,
      service: attempt.service,
      details: { method, loginId: login.id, restricted: login.restricted, validUntil: window.endsAt.toISOString() },
    }),
  ]);
  return {
    ok: true,
    userId: who.userId,
    username: who.username,
    upstreamUser: who.upstreamUser,
    loginId: login.id,
    method,
    restricted: login.restricted,
    validUntil: window.endsAt,
  };
}
