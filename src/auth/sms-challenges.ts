/**
 * SMS challenges: after a correct SMS password, a 6-digit code (10^6 ≈ 20 bits, from crypto.randomInt) is
 * sent to the default personality's mobile number. The code is stored only as an HMAC, compared in
 * constant time, valid 10 minutes, single use, and void after 5 wrong tries; a new code voids the previous.
 * Attempts are counted by an atomic `UPDATE … attempts = attempts + 1 … WHERE attempts < 5 RETURNING`, so
 * even concurrent guesses get at most 5 comparisons per code, and consumption is a guarded UPDATE, so a code
 * opens at most one session.
 *
 * The web keeps the challenge id in its pre-login state and must bind it to the browser that typed the
 * SMS password (ids are sequential); mail clients send "SMS password + code" instead (see authenticate.ts).
 */
import crypto from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { altLogins, smsChallenges, type Service } from '../db/schema.js';
import { isPosternError, type ErrorCode } from '../errors.js';
import { sendLoginCode } from '../sms/login-code.js';
import { keyedHash, equalDigests } from './keyed-hash.js';
import { findLoginUser, recordLoginFailure, recordLoginSuccess } from './login-outcome.js';
import { reserveUserAttempt } from './throttle.js';
import type { AuthFailure, AuthResult } from './types.js';

export const SMS_CODE_DIGITS = 6;
export const SMS_CODE_TTL_SECONDS = 10 * 60;
export const SMS_CODE_MAX_ATTEMPTS = 5;
/** Shown on the code page; the SMS sender enforces its own cool-down and wins when it says more. */
export const SMS_RESEND_COOLDOWN_SECONDS = 60;
/** "Send a new code" works for this long after the first code, then the SMS password must be typed again. */
const RESEND_WINDOW_SECONDS = 30 * 60;

type SmsRequired = Extract<AuthFailure, { reason: 'sms-required' }>;
type SmsUnavailable = Extract<AuthFailure, { reason: 'sms-unavailable' }>;
type Challenge = typeof smsChallenges.$inferSelect;

const SMS_ERRORS: ErrorCode[] = [
  'SMS_NO_MOBILE',
  'SMS_NO_CREDITS',
  'SMS_COOLDOWN',
  'SMS_RATE_LIMITED',
  'SMS_COUNTRY_BLOCKED',
  'SMS_INVALID_NUMBER',
  'SMS_PROVIDER_DOWN',
];

/** The keyed hash a challenge's code is stored as (also compared by a 1-hour window, login-windows.ts). */
export function smsCodeHash(ctx: Pick<AppContext, 'secretKey'>, loginId: number, code: string): string {
  return keyedHash(ctx.secretKey, 'sms-code', loginId, code);
}

export function generateSmsCode(): string {
  return String(crypto.randomInt(0, 10 ** SMS_CODE_DIGITS)).padStart(SMS_CODE_DIGITS, '0');
}

const pending = () =>
  and(isNull(smsChallenges.consumedAt), isNull(smsChallenges.voidedAt), gt(smsChallenges.expiresAt, sql`now()`), lt(smsChallenges.attempts, SMS_CODE_MAX_ATTEMPTS));

function secondsUntil(date: Date): number {
  return Math.max(0, Math.ceil((date.getTime() - Date.now()) / 1000));
}

function toRequired(c: Challenge, resendAfterSeconds?: number): SmsRequired {
  const sinceCreated = (Date.now() - c.createdAt.getTime()) / 1000;
  return {
    ok: false,
    reason: 'sms-required',
    challengeId: c.id,
    sentToHint: c.sentToHint,
    expiresAt: c.expiresAt,
    resendAfterSeconds: resendAfterSeconds ?? Math.max(0, Math.ceil(SMS_RESEND_COOLDOWN_SECONDS - sinceCreated)),
  };
}

/**
 * Sends a fresh code for an SMS login (the password was already verified) and records the challenge. A
 * refusal by the sender (no mobile, no credits, cool-down, limits, provider down …) becomes
 * `sms-unavailable` with the sender's sentence; during a cool-down the code already sent stays usable and
 * its challenge is returned instead.
 */
export async function startSmsChallenge(
  ctx: AppContext,
  input: { userId: number; loginId: number; ip: string },
): Promise<SmsRequired | SmsUnavailable> {
  const code = generateSmsCode();
  let sent: { smsMessageId: number; sentToHint: string };
  try {
    sent = await sendLoginCode(ctx, { userId: input.userId, loginId: input.loginId, code, ip: input.ip });
  } catch (e) {
    if (isPosternError(e, 'SMS_COOLDOWN')) {
      const [current] = await ctx.db.select().from(smsChallenges).where(and(eq(smsChallenges.loginId, input.loginId), pending())).orderBy(desc(smsChallenges.id)).limit(1);
      const retry = Number(e.context.retryAfterSeconds) || SMS_RESEND_COOLDOWN_SECONDS;
      if (current) return toRequired(current, retry);
    }
    if (isPosternError(e) && SMS_ERRORS.includes(e.code)) {
      const retry = Number(e.context.retryAfterSeconds);
      return { ok: false, reason: 'sms-unavailable', code: e.code, message: e.userMessage, ...(retry > 0 ? { retryAfterSeconds: retry } : {}) };
    }
    ctx.log.error({ err: e, userId: input.userId, loginId: input.loginId }, 'sending an SMS login code failed');
    return { ok: false, reason: 'sms-unavailable', code: 'SMS_PROVIDER_DOWN', message: 'The SMS could not be sent right now. Please try again later.' };
  }
  const challenge = await ctx.db.transaction(async (tx) => {
    await tx
      .update(smsChallenges)
      .set({ voidedAt: sql`now()` })
      .where(and(eq(smsChallenges.loginId, input.loginId), isNull(smsChallenges.consumedAt), isNull(smsChallenges.voidedAt)));
    const [row] = await tx
      .insert(smsChallenges)
      .values({
        userId: input.userId,
        loginId: input.loginId,
        codeHash: smsCodeHash(ctx, input.loginId, code),
        sentToHint: sent.sentToHint,
        smsMessageId: sent.smsMessageId,
        expiresAt: sql`now() + make_interval(secs => ${SMS_CODE_TTL_SECONDS})`,
      })
      .returning();
    return row!;
  });
  return toRequired(challenge, SMS_RESEND_COOLDOWN_SECONDS);
}

/**
 * One guess at a challenge's code: counts the attempt atomically, compares in constant time, voids the
 * challenge at the fifth wrong guess, and consumes it (once) when right. Returns the consumed challenge.
 */
export async function tryChallengeCode(ctx: AppContext, where: { challengeId?: number; loginId?: number }, code: string): Promise<Challenge | null> {
  const target = where.challengeId !== undefined ? eq(smsChallenges.id, where.challengeId) : eq(smsChallenges.loginId, where.loginId!);
  // For a login, only its newest pending challenge counts: a new code voids the previous one anyway.
  const [counted] = await ctx.db
    .update(smsChallenges)
    .set({ attempts: sql`${smsChallenges.attempts} + 1` })
    .where(
      and(
        eq(
          smsChallenges.id,
          sql`(select ${smsChallenges.id} from ${smsChallenges} where ${and(target, pending())} order by ${smsChallenges.id} desc limit 1)`,
        ),
        pending(),
      ),
    )
    .returning();
  if (!counted) return null;
  const typed = code.replace(/\s/g, '');
  const right = /^\d+$/.test(typed) && equalDigests(smsCodeHash(ctx, counted.loginId, typed), counted.codeHash);
  if (!right) {
    if (counted.attempts >= SMS_CODE_MAX_ATTEMPTS)
      await ctx.db.update(smsChallenges).set({ voidedAt: sql`now()` }).where(and(eq(smsChallenges.id, counted.id), isNull(smsChallenges.voidedAt)));
    return null;
  }
  const [consumed] = await ctx.db
    .update(smsChallenges)
    .set({ consumedAt: sql`now()` })
    .where(and(eq(smsChallenges.id, counted.id), isNull(smsChallenges.consumedAt), isNull(smsChallenges.voidedAt), gt(smsChallenges.expiresAt, sql`now()`)))
    .returning();
  return consumed ?? null;
}

/** Login ids among `loginIds` that have a code waiting to be typed. */
export async function loginsWithPendingChallenge(ctx: AppContext, loginIds: number[]): Promise<Set<number>> {
  if (!loginIds.length) return new Set();
  const rows = await ctx.db
    .selectDistinct({ loginId: smsChallenges.loginId })
    .from(smsChallenges)
    .where(and(inArray(smsChallenges.loginId, loginIds), pending()));
  return new Set(rows.map((r) => r.loginId));
}

async function loadLoginAndUser(ctx: AppContext, loginId: number) {
  const login = await findAltLoginRow(ctx, loginId);
  const user = login ? await findLoginUser(ctx, { id: login.userId }) : null;
  return login && user ? { login, user } : null;
}

async function findAltLoginRow(ctx: AppContext, loginId: number) {
  const [row] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, loginId));
  return row ?? null;
}

/**
 * The web's code page: checks the typed code against the challenge. Success opens a session like any
 * login (method `sms`, restricted as the SMS login is); anything else is the generic failure.
 */
export async function verifySmsChallenge(
  ctx: AppContext,
  input: { challengeId: number; code: string; ip: string; service: Service; knownDeviceUserId?: number | null; client?: string },
): Promise<AuthResult> {
  const [challenge] = await ctx.db.select().from(smsChallenges).where(eq(smsChallenges.id, input.challengeId));
  const found = challenge ? await loadLoginAndUser(ctx, challenge.loginId) : null;
  const userId = found?.user.id ?? null;
  // Reserve, then settle (throttle.ts): counted before the code is checked, so concurrent wrong codes are
  // throttled like sequential ones; the recording below settles the reservation.
  const reserved = await reserveUserAttempt(ctx, { username: found?.user.username ?? '', ip: input.ip, userId, knownDevice: userId !== null && input.knownDeviceUserId === userId });
  if (reserved.blocked) return { ok: false, reason: 'throttled', retryAfterSeconds: reserved.retryAfterSeconds };
  const attempt = { username: found?.user.username ?? '', service: input.service, ip: input.ip, client: input.client, reservation: reserved.reservation };
  const consumed = challenge ? await tryChallengeCode(ctx, { challengeId: challenge.id }, input.code) : null;
  if (!consumed || !found) {
    await recordLoginFailure(ctx, attempt, found?.user ?? null, challenge ? 'sms-code-wrong' : 'sms-challenge-invalid', { method: 'sms', loginId: challenge?.loginId });
    return { ok: false, reason: 'failed' };
  }
  const { login, user } = found;
  if (user.disabled || login.revokedAt || !login.services.includes(input.service)) {
    await recordLoginFailure(ctx, attempt, user, user.disabled ? 'disabled' : 'service-not-allowed', { method: 'sms', loginId: login.id });
    return { ok: false, reason: 'failed' };
  }
  const result = await recordLoginSuccess(ctx, attempt, { userId: user.id, username: user.username, upstreamUser: user.upstreamUser, groupId: user.groupId }, login, 'sms');
  // A 1-hour SMS password: this browser may sign in again until then without a new SMS.
  if (!login.validForSeconds || !consumed.consumedAt) return result;
  return { ...result, validUntil: new Date(consumed.consumedAt.getTime() + login.validForSeconds * 1000), smsWindowId: consumed.id };
}

export interface SmsChallengeStatus {
  challengeId: number;
  status: 'pending' | 'used' | 'void' | 'expired';
  sentToHint: string;
  expiresAt: Date;
  secondsLeft: number;
  attemptsLeft: number;
  resendAfterSeconds: number;
}

/** What the code page shows: masked number hint, time left, tries left, when "send a new code" works. */
export async function getSmsChallenge(ctx: AppContext, challengeId: number): Promise<SmsChallengeStatus | null> {
  const [c] = await ctx.db.select().from(smsChallenges).where(eq(smsChallenges.id, challengeId));
  if (!c) return null;
  const status = c.consumedAt ? 'used' : c.voidedAt || c.attempts >= SMS_CODE_MAX_ATTEMPTS ? 'void' : c.expiresAt <= new Date() ? 'expired' : 'pending';
  return {
    challengeId: c.id,
    status,
    sentToHint: c.sentToHint,
    expiresAt: c.expiresAt,
    secondsLeft: status === 'pending' ? secondsUntil(c.expiresAt) : 0,
    attemptsLeft: Math.max(0, SMS_CODE_MAX_ATTEMPTS - c.attempts),
    resendAfterSeconds: toRequired(c).resendAfterSeconds,
  };
}

/**
 * "Send a new code" on the code page: a fresh code for the same SMS login (voiding the old one), allowed
 * within 30 minutes of the first one and while no code of it has been used; the SMS sender's cool-down and
 * limits apply. Returns the new challenge (its id differs), `sms-unavailable`, or the generic failure.
 */
export async function resendSmsChallenge(
  ctx: AppContext,
  input: { challengeId: number; ip: string },
): Promise<SmsRequired | SmsUnavailable | { ok: false; reason: 'failed' }> {
  const [c] = await ctx.db.select().from(smsChallenges).where(eq(smsChallenges.id, input.challengeId));
  const found = c ? await loadLoginAndUser(ctx, c.loginId) : null;
  const tooOld = !c || Date.now() - c.createdAt.getTime() > RESEND_WINDOW_SECONDS * 1000;
  if (!c || !found || tooOld || c.consumedAt || found.user.disabled || found.login.revokedAt) return { ok: false, reason: 'failed' };
  // Only the newest challenge of the login may be renewed: an old page cannot resurrect a replaced code.
  const [newest] = await ctx.db
    .select({ id: smsChallenges.id, consumedAt: smsChallenges.consumedAt })
    .from(smsChallenges)
    .where(eq(smsChallenges.loginId, c.loginId))
    .orderBy(desc(smsChallenges.id))
    .limit(1);
  if (newest?.id !== c.id) return { ok: false, reason: 'failed' };
  return startSmsChallenge(ctx, { userId: c.userId, loginId: c.loginId, ip: input.ip });
}
