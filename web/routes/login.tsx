/**
 * Logging in and out. Each action is thin: form → one domain call → session or a page that says why.
 *
 * The SMS step keeps its pre-login state (which challenge) in an HMAC-signed, short-lived cookie, so a
 * code can only be typed in the browser that typed the SMS password. Every successful login gets a fresh
 * token (and any session the browser still carried is ended), so a planted cookie cannot be promoted.
 *
 * 1-hour SMS passwords: the browser that typed the code keeps the window in a signed cookie and signs in
 * again with the SMS password alone, without a new SMS, until the window ends. A session opened in a
 * 1-hour window ends with it.
 */
import { Hono, type Context } from 'hono';
import { authenticate } from '../../src/auth/authenticate.js';
import { looksLikeOneTimeCode } from '../../src/auth/login-windows.js';
import { getSmsChallenge, resendSmsChallenge, verifySmsChallenge } from '../../src/auth/sms-challenges.js';
import { verifyTotpStep } from '../../src/auth/totp-logins.js';
import type { AuthResult, AuthSuccess } from '../../src/auth/types.js';
import { createWebSession, equalSecrets, revokeWebSession } from '../../src/auth/web-sessions.js';
import { audit } from '../../src/audit.js';
import { explainCodePayer } from '../../src/sms/code-payer.js';
import {
  clearPendingCookie,
  clearSessionCookie,
  readPendingCookie,
  readSmsWindowCookie,
  writePendingCookie,
  writeSessionCookie,
  writeSmsWindowCookie,
  type CookiePolicy,
} from '../cookies.js';
import type { WebEnv } from '../env.js';
import { field, readForm } from '../middleware/session.js';
import { readKnownDevice, writeKnownDeviceCookie } from '../known-device.js';
import { refuse } from '../refusal.js';
import { clearTotpPendingCookie, readTotpPendingCookie, writeTotpPendingCookie } from '../totp-cookie.js';
import { CodePage, LoginPage } from '../views/login-views.js';
import { TotpCodePage } from '../views/totp-views.js';
import { shortUserAgent } from '../user-agent.js';
import { formatDuration } from '../views/ui.js';

const FAILED = 'Wrong username or password.';
/**
 * Said whenever the typed password is shaped like a printed code, whether or not the account exists or
 * the code was used: it depends on what was typed only.
 */
const FAILED_CODE = `${FAILED} A code from a one-time list can be used once (a code from a 1-hour list: for one hour after its first use).`;

function throttledText(seconds: number): string {
  return `Too many failed attempts. Try again in ${formatDuration(seconds)}.`;
}

/** The browser, shortened, for the login notice (AuthRequest.client). */
function clientOf(c: Context<WebEnv>): { client?: string } {
  const client = shortUserAgent(c.req.header('user-agent'));
  return client ? { client } : {};
}

export function createLoginRoutes(policy: CookiePolicy) {
  const app = new Hono<WebEnv>();

  async function startSession(c: Context<WebEnv>, who: AuthSuccess) {
    const ctx = c.get('ctx');
    // Session fixation: whatever token the browser had is ended, and a new one is issued.
    const old = c.get('viewer')?.session.id;
    if (old) await revokeWebSession(ctx, old);
    const { token } = await createWebSession(ctx, {
      userId: who.userId,
      loginId: who.loginId,
      method: who.method,
      restricted: who.restricted,
      ip: c.get('ip'),
      userAgent: c.req.header('user-agent') ?? null,
      ...(who.validUntil ? { expiresAt: who.validUntil } : {}),
    });
    writeSessionCookie(c, policy, token);
    // This browser is now the owner's known browser (the throttle's under-attack budget, known-device.ts).
    // Not after a restricted login: a hijacker holding one must not gain an exemption for the main password.
    if (!who.restricted) writeKnownDeviceCookie(c, policy, ctx.secretKey, who.userId);
    if (who.smsWindowId !== undefined && who.validUntil)
      writeSmsWindowCookie(c, policy, ctx.secretKey, { challengeId: who.smsWindowId, expiresAt: who.validUntil.getTime() });
    clearPendingCookie(c, policy);
    clearTotpPendingCookie(c, policy);
    return c.redirect('/mail', 303);
  }

  app.get('/login', (c) => {
    if (c.req.query('cancel') !== undefined) {
      clearPendingCookie(c, policy);
      clearTotpPendingCookie(c, policy);
    } else if (c.get('viewer')) return c.redirect('/mail', 303);
    const info =
      c.req.query('signed-out') !== undefined
        ? 'You have signed out. On a shared computer, close the browser now.'
        : c.req.query('expired') !== undefined
          ? 'Your session ended because it was idle or too old. Please log in again.'
          : c.req.query('code-expired') !== undefined
            ? 'That code is no longer valid. Log in again to get a new one.'
            : null;
    return c.html(<LoginPage info={info} />);
  });

  app.post('/login', async (c) => {
    const ctx = c.get('ctx');
    const form = await readForm(c);
    const username = field(form, 'username', 200).trim();
    const password = field(form, 'password', 2048);
    if (!username || !password) return c.html(<LoginPage username={username} error="Enter your username and password." />, 400);
    const smsWindow = readSmsWindowCookie(c, policy, ctx.secretKey);
    const result: AuthResult = await authenticate(ctx, {
      username,
      secret: password,
      service: 'web',
      ip: c.get('ip'),
      ...clientOf(c),
      knownDeviceUserId: readKnownDevice(c, policy, ctx.secretKey),
      ...(smsWindow ? { smsWindowId: smsWindow.challengeId } : {}),
    });
    if (result.ok) return startSession(c, result);
    switch (result.reason) {
      case 'sms-required':
        writePendingCookie(c, policy, ctx.secretKey, { challengeId: result.challengeId, expiresAt: result.expiresAt.getTime() });
        return c.redirect('/login/code', 303);
      case 'totp-required':
        writeTotpPendingCookie(c, policy, ctx.secretKey, { loginId: result.loginId, lastStep: result.lastStep });
        return c.redirect('/login/app-code', 303);
      case 'throttled':
        c.header('Retry-After', String(result.retryAfterSeconds));
        return c.html(<LoginPage username={username} error={throttledText(result.retryAfterSeconds)} status="warn" />, 429);
      case 'sms-unavailable':
        return c.html(<LoginPage username={username} error={result.message} status="warn" />, 503);
      case 'busy':
        c.header('Retry-After', '5');
        return c.html(<LoginPage username={username} error="Too many logins are being checked right now. Wait a few seconds and try again." status="warn" />, 503);
      default:
        return c.html(<LoginPage username={username} error={looksLikeOneTimeCode(password) ? FAILED_CODE : FAILED} />, 401);
    }
  });

  /** The pending challenge of this browser, or a redirect back to the login page. */
  async function pendingChallenge(c: Context<WebEnv>) {
    const pending = readPendingCookie(c, policy, c.get('ctx').secretKey);
    const challenge = pending ? await getSmsChallenge(c.get('ctx'), pending.challengeId) : null;
    return challenge?.status === 'pending' ? challenge : null;
  }

  app.get('/login/code', async (c) => {
    const challenge = await pendingChallenge(c);
    if (!challenge) {
      clearPendingCookie(c, policy);
      return c.redirect('/login?code-expired=1', 303);
    }
    const sent = c.req.query('sent') !== undefined;
    const notSent = c.req.query('not-sent') !== undefined;
    const error = notSent ? `No new code was sent: the last one went out moments ago. The code already sent still works.` : null;
    const payerNote = await explainCodePayer(c.get('ctx').db, challenge.challengeId);
    return c.html(<CodePage challenge={challenge} info={sent ? 'A new code is on its way.' : null} error={error} note={payerNote} />);
  });

  app.post('/login/code', async (c) => {
    const ctx = c.get('ctx');
    const pending = readPendingCookie(c, policy, ctx.secretKey);
    if (!pending) {
      clearPendingCookie(c, policy);
      return c.redirect('/login?code-expired=1', 303);
    }
    const code = field(await readForm(c), 'code', 32);
    const result = await verifySmsChallenge(ctx, { challengeId: pending.challengeId, code, ip: c.get('ip'), service: 'web', knownDeviceUserId: readKnownDevice(c, policy, ctx.secretKey), ...clientOf(c) });
    if (result.ok) return startSession(c, result);
    const challenge = await getSmsChallenge(ctx, pending.challengeId);
    if (!challenge || challenge.status !== 'pending') {
      clearPendingCookie(c, policy);
      return c.redirect('/login?code-expired=1', 303);
    }
    const error = result.reason === 'throttled' ? throttledText(result.retryAfterSeconds) : 'That code is not right.';
    return c.html(<CodePage challenge={challenge} error={error} />, result.reason === 'throttled' ? 429 : 401);
  });

  app.post('/login/code/resend', async (c) => {
    const ctx = c.get('ctx');
    const pending = readPendingCookie(c, policy, ctx.secretKey);
    const result = pending ? await resendSmsChallenge(ctx, { challengeId: pending.challengeId, ip: c.get('ip') }) : null;
    if (!result || result.reason === 'failed') {
      clearPendingCookie(c, policy);
      return c.redirect('/login?code-expired=1', 303);
    }
    // During the cool-down the core answers with the challenge already sent: nothing new went out.
    if (result.reason === 'sms-required' && result.challengeId === pending!.challengeId) return c.redirect('/login/code?not-sent=1', 303);
    if (result.reason === 'sms-required') {
      writePendingCookie(c, policy, ctx.secretKey, { challengeId: result.challengeId, expiresAt: result.expiresAt.getTime() });
      return c.redirect('/login/code?sent=1', 303);
    }
    // No new code could be sent; the previous one (if still valid) keeps working.
    const challenge = await pendingChallenge(c);
    if (!challenge) return c.html(<LoginPage error={result.message} status="warn" />, 503);
    return c.html(<CodePage challenge={challenge} error={result.message} />, 503);
  });

  // The authenticator app's code, after its password. Nothing on these pages names the account.
  app.get('/login/app-code', (c) => {
    if (readTotpPendingCookie(c, policy, c.get('ctx').secretKey)) return c.html(<TotpCodePage />);
    clearTotpPendingCookie(c, policy);
    return c.redirect('/login?code-expired=1', 303);
  });

  app.post('/login/app-code', async (c) => {
    const ctx = c.get('ctx');
    const pending = readTotpPendingCookie(c, policy, ctx.secretKey);
    if (!pending) {
      clearTotpPendingCookie(c, policy);
      return c.redirect('/login?code-expired=1', 303);
    }
    const code = field(await readForm(c), 'code', 32);
    const lastStep = pending.lastStep < 0 ? null : pending.lastStep;
    const result = await verifyTotpStep(ctx, { loginId: pending.loginId, lastStep, code, ip: c.get('ip'), service: 'web', knownDeviceUserId: readKnownDevice(c, policy, ctx.secretKey), ...clientOf(c) });
    if (result.ok) return startSession(c, result);
    if (result.reason === 'throttled') {
      c.header('Retry-After', String(result.retryAfterSeconds));
      return c.html(<TotpCodePage error={throttledText(result.retryAfterSeconds)} />, 429);
    }
    return c.html(<TotpCodePage error="That code is not right. Type the code your app shows now." />, 401);
  });

  app.post('/logout', async (c) => {
    const ctx = c.get('ctx');
    const viewer = c.get('viewer');
    if (viewer) {
      // Logging out must not be forgeable either (a forced logout is a nuisance on a shared screen).
      const token = field(await readForm(c), '_csrf', 200);
      if (!equalSecrets(token, viewer.session.csrfToken)) throw await refuse(c, 403, 'csrf-token-invalid');
      await revokeWebSession(ctx, viewer.session.id);
      await audit(ctx.db, { event: 'session.ended', userId: viewer.session.userId, ip: c.get('ip'), service: 'web', details: { reason: 'logout', method: viewer.session.method } });
    }
    clearSessionCookie(c, policy);
    clearPendingCookie(c, policy);
    return c.redirect('/login?signed-out=1', 303);
  });

  return app;
}
