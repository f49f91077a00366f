/**
 * `authenticate`: the one login decision for the web, the IMAP gateway and the SMTP listener.
 *
 * Cost model (argon2 verifications per attempt; each costs ~130 ms of one core at production cost):
 *   cached IMAP/SMTP login (main, alternate or app password): 0, and no database query;
 *   app password: 0 — one HMAC, compared with the user's app logins (found by the keyed hash);
 *   one-time code: 0 — one HMAC, consumed by one guarded UPDATE on the (user, hash) unique index; for a
 *     list with a base password, + 1 (the base is verified once whenever the secret ends code-shaped, so
 *     a wrong base costs what a wrong code costs; see login-windows.ts);
 *   reconnect inside a 1-hour one-time window: as a one-time code; inside a 1-hour SMS window: as
 *     "SMS password + code" below, and no SMS;
 *   main password: 1;
 *   failure, unknown user, disabled user: 1 + A, where A is the number of the user's active alternate and
 *     SMS passwords allowed for the service (0 for unknown/disabled users; A ≤ MAX_USER_CHOSEN_ALTERNATES
 *     = 5, enforced at creation);
 *   success with the k-th alternate/SMS password: 1 + k;
 *   IMAP/SMTP "SMS password + 6-digit code" or "authenticator-app password + 6-digit code": up to 1 + A + P,
 *     where P ≤ A is the number of SMS logins with a code waiting plus the authenticator-app (totp) logins
 *     (only tried when the secret ends in six digits).
 * So every uncached path is bounded by 1 + 1 + 2 × 5 = 12 verifications, and by 1 for users without
 * user-chosen alternates. Each attempt is counted by the throttle before any verification (reserve, then
 * settle: throttle.ts) and verified in the fair queue (verify-queue.ts), which answers `busy` when full.
 *
 * Timing: unknown, disabled and password-less accounts go through the same steps with an empty login list
 * and a dummy argon2 verification, so they fail in the time a wrong password takes for a user without
 * alternates. (A user's alternates add verifications, which does tell an observer that account has them.)
 */
import { and, arrayContains, eq, isNull } from 'drizzle-orm';
import { appPasswordHash } from '../accounts/alt-logins.js';
import { MAX_PASSWORD_LENGTH, type User } from '../accounts/users.js';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { altLogins, users } from '../db/schema.js';
import { normalizeUsername } from '../accounts/usernames.js';
import { hasControlCharacters } from '../control-characters.js';
import { authCacheKey, getAuthCache } from './auth-cache.js';
import { dummyVerify } from './dummy-verify.js';
import { APP_PASSWORD_SYMBOLS, canonicalizeGenerated } from './generated-secrets.js';
import { equalDigests } from './keyed-hash.js';
import { findLoginUser, recordLoginFailure, recordLoginSuccess, type Attempt, type LoginUser } from './login-outcome.js';
import { loginsWithOpenSmsWindow, recordWindowReuse, resumeSmsWindow, smsWindowOf, useOneTimeCode, useSmsWindowCode, type WindowUse } from './login-windows.js';
import { loginsWithPendingChallenge, startSmsChallenge, tryChallengeCode, SMS_CODE_DIGITS } from './sms-challenges.js';
import { recordRecoveryUse } from './recovery.js';
import { isKnownAddress, releaseReservation, reserveAttempt } from './throttle.js';
import { useTotpCode } from './totp-logins.js';
import { getVerifyQueue } from './verify-queue.js';
import { recordLogin } from '../metrics/record.js';
import type { AuthMethod, AuthRequest, AuthResult, AuthSuccess } from './types.js';

type AltLogin = typeof altLogins.$inferSelect;

/** Methods whose secret can be presented again, and so may be cached for mail clients. */
const REUSABLE: AuthMethod[] = ['main', 'password', 'app'];
const SMS_SUFFIX = new RegExp(`^(.+)(\\d{${SMS_CODE_DIGITS}})$`, 's');

/** Decides a login attempt. Never throws for bad credentials; see AuthResult for the outcomes. */
export async function authenticate(ctx: AppContext, req: AuthRequest): Promise<AuthResult> {
  let result: AuthResult;
  try {
    result = await decideLogin(ctx, req);
  } catch (e) {
    recordLogin(req.service, 'error');
    throw e;
  }
  recordLogin(req.service, result);
  return result;
}

async function decideLogin(ctx: AppContext, req: AuthRequest): Promise<AuthResult> {
  // No user's name has a control character, and PostgreSQL would refuse a NUL: such a name is unknown
  // (looked up as '', so it fails like any unknown user, at the same cost, and is throttled per address).
  const username = hasControlCharacters(req.username, { allowLineBreaks: false }) ? '' : normalizeUsername(req.username);
  const cache = getAuthCache(ctx);
  const cacheKey = req.service !== 'web' ? authCacheKey(ctx, req, username) : null;
  const hit = cacheKey ? cache.get(cacheKey) : null;
  if (hit) return hit;

  const queue = getVerifyQueue(ctx);
  if (queue.full(req.ip)) return { ok: false, reason: 'busy' };
  const attempt: Attempt = { username, service: req.service, ip: req.ip, ...(req.client ? { client: req.client } : {}) };
  const user = username && username.length <= 64 ? await findLoginUser(ctx, { username }) : null;
  // Always asked (also for unknown names and known browsers), so its time does not tell them apart.
  const knownByAddress = await isKnownAddress(ctx, user?.id ?? null, req.ip);
  const knownAddress = knownByAddress || (user !== null && req.knownDeviceUserId === user.id);
  // A place in the verification queue first: when it is full nothing is counted or verified.
  const ticket = queue.admit(req.ip, knownAddress);
  if (!ticket) return { ok: false, reason: 'busy' };
  let outcome: Outcome;
  let generation = 0;
  try {
    const reserved = await reserveAttempt(ctx, { username, ip: req.ip, knownAddress });
    if (reserved.blocked) {
      await audit(ctx.db, { event: 'login.throttled', userId: user?.id ?? null, groupId: user?.groupId ?? null, ip: req.ip, service: req.service, details: { retryAfterSeconds: reserved.retryAfterSeconds } });
      return { ok: false, reason: 'throttled', retryAfterSeconds: reserved.retryAfterSeconds };
    }
    attempt.reservation = reserved.reservation;
    await ticket.turn();
    const active = user && !user.disabled ? user : null;
    // Taken before deciding: a change to the user's logins meanwhile keeps this result out of the cache.
    generation = active ? cache.generation(active.id) : 0;
    // Never hand argon2 a megabyte: an over-long secret is simply wrong, at the usual cost.
    const secret = req.secret.length <= MAX_PASSWORD_LENGTH ? req.secret : req.secret.slice(0, MAX_PASSWORD_LENGTH);
    outcome = await decide(ctx, attempt, active, secret, req.secret.length > MAX_PASSWORD_LENGTH, req.smsWindowId);
  } finally {
    ticket.done();
  }
  if (outcome.kind === 'success') {
    const { window } = outcome;
    // Inside a 1-hour window a login is a reconnect (a session), not a new use.
    if (window && !window.first && outcome.login) return recordWindowReuse(ctx, attempt, who(outcome.user), outcome.login, outcome.method, window);
    const recorded = await recordLoginSuccess(ctx, attempt, who(outcome.user), outcome.login, outcome.method);
    const epoch = outcome.method === 'main' ? { passwordChangedAt: outcome.user.passwordChangedAt } : {};
    const result = withWindow({ ...recorded, ...epoch }, window, outcome.smsWindowId);
    if (outcome.login?.recovery) await recordRecoveryUse(ctx, attempt, outcome.user, outcome.login);
    if (cacheKey && REUSABLE.includes(outcome.method)) cache.set(cacheKey, result, generation);
    return result;
  }
  if (outcome.kind === 'sms' || outcome.kind === 'totp') {
    // The SMS or authenticator-app password was right: not a guess. (The code check that follows is
    // throttled on its own.)
    await releaseReservation(ctx, attempt.reservation!);
    return outcome.result;
  }
  const reason = !user ? 'unknown-user' : user.disabled ? 'disabled' : !user.passwordHash ? 'no-password' : 'wrong-secret';
  await recordLoginFailure(ctx, attempt, user, reason);
  return { ok: false, reason: 'failed' };
}

type Outcome =
  | { kind: 'success'; user: LoginUser; login: AltLogin | null; method: AuthMethod; window?: WindowUse | null; smsWindowId?: number }
  | { kind: 'sms'; result: AuthResult }
  | { kind: 'totp'; result: AuthResult }
  | { kind: 'failed' };

function withWindow(result: AuthSuccess, window: WindowUse | null | undefined, smsWindowId?: number): AuthSuccess {
  return window ? { ...result, validUntil: window.endsAt, ...(smsWindowId !== undefined ? { smsWindowId } : {}) } : result;
}

function who(user: LoginUser) {
  return { userId: user.id, username: user.username, upstreamUser: user.upstreamUser, groupId: user.groupId };
}

/** The method detection, cheapest first; `user` is null for unknown or disabled accounts. */
async function decide(
  ctx: AppContext,
  attempt: Attempt,
  user: LoginUser | null,
  secret: string,
  tooLong: boolean,
  smsWindowId?: number,
): Promise<Outcome> {
  const logins = user && !tooLong ? await activeLogins(ctx, user.id, attempt) : [];

  // 1. App password: one HMAC, compared in constant time with the user's app logins.
  const appCanonical = canonicalizeGenerated(secret, APP_PASSWORD_SYMBOLS);
  if (user && appCanonical) {
    const hash = appPasswordHash(ctx, user.id, appCanonical);
    const login = logins.find((l) => l.kind === 'app' && l.secretHash && equalDigests(l.secretHash, hash));
    if (login) return { kind: 'success', user, login, method: 'app' };
  }

  // 2. One-time code: one HMAC probe (+ the base password), used atomically (concurrent first uses of one
  //    code: exactly one wins; for a 1-hour list the others join the window it opened).
  const otpList = logins.find((l) => l.kind === 'otp');
  if (user && otpList) {
    const used = await useOneTimeCode(ctx, user.id, secret, otpList);
    if (used) return { kind: 'success', user, login: used.login, method: 'otp', window: used.window };
  }

  // 3. Main password (never restricted), or the dummy verification that makes failures look alike.
  if (user?.passwordHash && !tooLong) {
    if (await ctx.hasher.verify(user.passwordHash, secret)) {
      await upgradeHashIfNeeded(ctx, user, secret);
      return { kind: 'success', user, login: null, method: 'main' };
    }
  } else {
    await dummyVerify(ctx.hasher, secret);
  }
  if (!user) return { kind: 'failed' };

  // 4. User-chosen alternates (≤ 5): one argon2 verification each.
  const chosen = logins.filter((l) => l.kind === 'password' || l.kind === 'sms' || l.kind === 'totp');
  for (const login of chosen) {
    if (!(await ctx.hasher.verify(login.secretHash ?? '', secret))) continue;
    await upgradeLoginHashIfNeeded(ctx, login, secret);
    if (login.kind === 'password') return { kind: 'success', user, login, method: 'password' };
    // An authenticator-app password alone opens nothing: the web asks for the code next, mail clients
    // must send it after the password (step 5).
    if (login.kind === 'totp')
      return attempt.service === 'web'
        ? { kind: 'totp', result: { ok: false, reason: 'totp-required', loginId: login.id, lastStep: login.totpLastStep } }
        : { kind: 'failed' };
    const resumed = smsWindowId !== undefined ? await resumeSmsWindow(ctx, login, smsWindowId) : null;
    if (resumed) return { kind: 'success', user, login, method: 'sms', window: resumed };
    // The SMS password alone: a code goes out; for a mail client this is a failure saying so.
    return { kind: 'sms', result: await startSmsChallenge(ctx, { userId: user.id, loginId: login.id, ip: attempt.ip }) };
  }

  // 5. Mail clients cannot show a second prompt: "SMS password" immediately followed by the code.
  const split = attempt.service !== 'web' ? SMS_SUFFIX.exec(secret) : null;
  if (split) {
    const sms = chosen.filter((l) => l.kind === 'sms');
    const waiting = await loginsWithPendingChallenge(ctx, sms.map((l) => l.id));
    const windows = await loginsWithOpenSmsWindow(ctx, sms);
    for (const login of sms.filter((l) => waiting.has(l.id) || windows.has(l.id))) {
      if (!(await ctx.hasher.verify(login.secretHash ?? '', split[1]!))) continue;
      const consumed = waiting.has(login.id) ? await tryChallengeCode(ctx, { loginId: login.id }, split[2]!) : null;
      if (consumed) return { kind: 'success', user, login, method: 'sms', window: smsWindowOf(consumed, login), smsWindowId: consumed.id };
      const reused = windows.has(login.id) ? await useSmsWindowCode(ctx, login, split[2]!) : null;
      if (reused) return { kind: 'success', user, login, method: 'sms', window: reused.window };
      return { kind: 'failed' };
    }
    for (const login of chosen.filter((l) => l.kind === 'totp')) {
      if (!(await ctx.hasher.verify(login.secretHash ?? '', split[1]!))) continue;
      if (await useTotpCode(ctx, login, split[2]!)) return { kind: 'success', user, login, method: 'totp' };
      return { kind: 'failed' };
    }
  }
  return { kind: 'failed' };
}

/** The user's non-revoked alternative logins that allow this service. */
async function activeLogins(ctx: AppContext, userId: number, attempt: Attempt): Promise<AltLogin[]> {
  return ctx.db
    .select()
    .from(altLogins)
    .where(and(eq(altLogins.userId, userId), isNull(altLogins.revokedAt), arrayContains(altLogins.services, [attempt.service])))
    .orderBy(altLogins.id);
}

/** A hash made at a lower cost than the current setting is replaced, once, after a successful login. */
async function upgradeHashIfNeeded(ctx: AppContext, user: User, password: string): Promise<void> {
  if (!user.passwordHash || !ctx.hasher.needsRehash(user.passwordHash)) return;
  const next = await ctx.hasher.hash(password);
  // Compare-and-set: a password changed meanwhile is not overwritten with the old one.
  await ctx.db.update(users).set({ passwordHash: next }).where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)));
}

async function upgradeLoginHashIfNeeded(ctx: AppContext, login: AltLogin, secret: string): Promise<void> {
  if (!login.secretHash || !ctx.hasher.needsRehash(login.secretHash)) return;
  const next = await ctx.hasher.hash(secret);
  await ctx.db.update(altLogins).set({ secretHash: next }).where(and(eq(altLogins.id, login.id), eq(altLogins.secretHash, login.secretHash)));
}
