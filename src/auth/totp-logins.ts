/**
 * Using an authenticator-app login (kind `totp`): a password the user chose, then the app's current
 * 6-digit code. Mail clients send both at once ("password123456", see authenticate.ts); the web asks for
 * the code on a second page, which this module answers.
 *
 * A code is accepted at most once per login: the accepted RFC 6238 time step is stored, and taking a step
 * is one guarded `UPDATE … WHERE totp_last_step < step RETURNING`, so of concurrent logins with the same
 * code exactly one wins (PostgreSQL re-checks the condition on the row the winner wrote). Codes are
 * checked in constant time (src/auth/totp.ts); guesses go through the same throttle as every secret.
 */
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { altLogins, type Service } from '../db/schema.js';
import { findLoginUser, recordLoginFailure, recordLoginSuccess } from './login-outcome.js';
import { reserveUserAttempt } from './throttle.js';
import { matchTotpStep } from './totp.js';
import { unsealTotpSecret } from './totp-seal.js';
import type { AuthResult } from './types.js';

type AltLogin = typeof altLogins.$inferSelect;

/** The time codes are judged by: the injected test clock, or this machine's (the phone's reference too). */
function now(ctx: Pick<AppContext, 'clock'>): Date {
  return ctx.clock ? ctx.clock() : new Date();
}

/**
 * Checks `typed` against the login's app and, when right, takes its time step (once). `expectedLastStep`
 * (the web's second page): the step the login had when its password was typed, so that page's state is
 * void as soon as the login has been used again (it cannot be replayed after the login it made).
 */
export async function useTotpCode(
  ctx: AppContext,
  login: Pick<AltLogin, 'id' | 'userId' | 'kind' | 'totpSecret' | 'totpLastStep'>,
  typed: string,
  expectedLastStep?: number | null,
): Promise<boolean> {
  if (login.kind !== 'totp' || !login.totpSecret) return false;
  const secret = unsealTotpSecret(ctx.secretKey, login.userId, login.totpSecret);
  if (!secret) {
    // Only a changed SECRET_KEY (or a tampered row) gets here; the secret itself is never logged.
    ctx.log.error({ loginId: login.id, code: 'TOTP_SECRET_UNREADABLE' }, 'an authenticator-app secret could not be unsealed');
    return false;
  }
  const step = matchTotpStep(secret, typed, now(ctx), login.totpLastStep);
  if (step === null) return false;
  const [taken] = await ctx.db
    .update(altLogins)
    .set({ totpLastStep: step })
    .where(
      and(
        eq(altLogins.id, login.id),
        isNull(altLogins.revokedAt),
        or(isNull(altLogins.totpLastStep), lt(altLogins.totpLastStep, step)),
        expectedLastStep === undefined ? undefined : sql`coalesce(${altLogins.totpLastStep}, -1) = ${expectedLastStep ?? -1}`,
      ),
    )
    .returning({ id: altLogins.id });
  return Boolean(taken);
}

/**
 * The web's code page: the password of TOTP login `loginId` was right (the browser holds a signed note of
 * it), now the code. Success opens a session like any login (method `totp`, restricted as the login is);
 * anything else is the generic failure, counted by the throttle.
 */
export async function verifyTotpStep(
  ctx: AppContext,
  input: { loginId: number; lastStep: number | null; code: string; ip: string; service: Service; knownDeviceUserId?: number | null; client?: string },
): Promise<AuthResult> {
  const [login] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, input.loginId));
  const user = login ? await findLoginUser(ctx, { id: login.userId }) : null;
  const userId = user?.id ?? null;
  // Reserve, then settle (throttle.ts): counted before the code is checked, so concurrent wrong codes are
  // throttled like sequential ones; recordLoginFailure/recordLoginSuccess settle the reservation.
  const reserved = await reserveUserAttempt(ctx, { username: user?.username ?? '', ip: input.ip, userId, knownDevice: userId !== null && input.knownDeviceUserId === userId });
  if (reserved.blocked) return { ok: false, reason: 'throttled', retryAfterSeconds: reserved.retryAfterSeconds };
  const attempt = { username: user?.username ?? '', service: input.service, ip: input.ip, client: input.client, reservation: reserved.reservation };
  const usable = login && user && !user.disabled && !login.revokedAt && login.services.includes(input.service);
  if (!login || !user || !usable || !(await useTotpCode(ctx, login, input.code, input.lastStep))) {
    const reason = !login || !user ? 'totp-login-invalid' : user.disabled ? 'disabled' : !usable ? 'service-not-allowed' : 'totp-code-wrong';
    await recordLoginFailure(ctx, attempt, user, reason, { method: 'totp', ...(login ? { loginId: login.id } : {}) });
    return { ok: false, reason: 'failed' };
  }
  return recordLoginSuccess(ctx, attempt, { userId: user.id, username: user.username, upstreamUser: user.upstreamUser, groupId: user.groupId }, login, 'totp');
}
