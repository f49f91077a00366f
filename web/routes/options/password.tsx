/**
 * Options → Password: the current main password, then the new one twice. Re-entering the current
 * password is the step-up here (no "confirm your password" detour), so wrong guesses count against the
 * login throttle exactly as on the confirm page: a hijacked session cannot guess its way to the password.
 * On success every other browser is signed out, this one gets a new token, and cached mail logins with
 * the old password end at once (changePassword → invalidateUser, NOTIFY to other instances).
 */
import { Hono } from 'hono';
import { changePassword } from '../../../src/accounts/users.js';
import { audit } from '../../../src/audit.js';
import { recordFailure, releaseReservation, reserveUserAttempt } from '../../../src/auth/throttle.js';
import { isKnownDeviceOf } from '../../known-device.js';
import { isPosternError } from '../../../src/errors.js';
import type { CookiePolicy } from '../../cookies.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, viewerOf } from '../../middleware/session.js';
import { confirmationError, renewSessionsAfterPasswordChange } from '../../password-sessions.js';
import { ChangePasswordPage } from '../../views/password-views.js';
import { formatDuration } from '../../views/ui.js';

export function createPasswordRoutes(policy: CookiePolicy) {
  const app = new Hono<WebEnv>();

  app.get('/', (c) => {
    const ok = c.req.query('changed') !== undefined ? 'Your password was changed. Every other browser was signed out.' : null;
    return c.html(<ChangePasswordPage viewer={viewerOf(c)} ok={ok} />);
  });

  app.post('/', async (c) => {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const s = viewer.session;
    const form = await readForm(c);
    const current = field(form, 'current', 2048);
    const password = field(form, 'password', 2048);
    const mismatch = confirmationError(password, field(form, 'confirm', 2048));
    if (mismatch) return c.html(<ChangePasswordPage viewer={viewer} errors={{ confirm: mismatch }} />, 422);

    // Reserve, then settle (throttle.ts): counted before the current password is checked.
    const reserved = await reserveUserAttempt(ctx, { username: s.username, ip: c.get('ip'), userId: s.userId, knownDevice: isKnownDeviceOf(c, policy, ctx.secretKey, s.userId) });
    if (reserved.blocked) {
      c.header('Retry-After', String(reserved.retryAfterSeconds));
      const error = `Too many failed attempts. Try again in ${formatDuration(reserved.retryAfterSeconds)}.`;
      return c.html(<ChangePasswordPage viewer={viewer} errors={{ form: error }} />, 429);
    }
    const attempt = { username: s.username, ip: c.get('ip'), reservation: reserved.reservation };
    try {
      await changePassword(ctx, { userId: s.userId, currentPassword: current, newPassword: password, keepWebSessionId: s.id });
    } catch (e) {
      if (isPosternError(e) && e.code === 'PASSWORD_INCORRECT') {
        await recordFailure(ctx, attempt);
        await audit(ctx.db, { event: 'login.failed', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'password-change-wrong', method: 'main' } });
        return c.html(<ChangePasswordPage viewer={viewer} errors={{ current: e.userMessage }} />, 401);
      }
      // Not a wrong guess (a new password refused, or a fault): the count goes back.
      await releaseReservation(ctx, reserved.reservation);
      if (!isPosternError(e)) throw e;
      if (e.code === 'PASSWORD_TOO_SHORT' || e.code === 'INVALID_INPUT') {
        return c.html(<ChangePasswordPage viewer={viewer} errors={{ password: e.userMessage }} />, 422);
      }
      throw e;
    }
    await releaseReservation(ctx, reserved.reservation);
    await renewSessionsAfterPasswordChange(c, policy);
    return c.redirect('/options/password?changed=1', 303);
  });

  return app;
}
