/**
 * "Choose your password": the only page a session made with an initial password can use (see
 * middleware/first-password.ts). No current password is asked: the session was made with it moments ago,
 * and this route does nothing unless the user still must change their password.
 */
import { Hono } from 'hono';
import { chooseFirstPassword } from '../../src/accounts/users.js';
import { isPosternError } from '../../src/errors.js';
import type { CookiePolicy } from '../cookies.js';
import type { WebEnv } from '../env.js';
import { CHOOSE_PASSWORD_PATH } from '../middleware/first-password.js';
import { field, readForm, requireFormToken, requireSession, viewerOf } from '../middleware/session.js';
import { confirmationError, renewSessionsAfterPasswordChange } from '../password-sessions.js';
import { ChoosePasswordPage } from '../views/password-views.js';

export function createChoosePasswordRoutes(policy: CookiePolicy) {
  const app = new Hono<WebEnv>();
  app.use(CHOOSE_PASSWORD_PATH, requireSession(), requireFormToken());

  app.get(CHOOSE_PASSWORD_PATH, (c) => {
    const viewer = viewerOf(c);
    if (!viewer.session.mustChoosePassword) return c.redirect('/mail', 303);
    return c.html(<ChoosePasswordPage viewer={viewer} />);
  });

  app.post(CHOOSE_PASSWORD_PATH, async (c) => {
    const viewer = viewerOf(c);
    // An alternate or restricted session of such a user, or one whose password is already chosen.
    if (!viewer.session.mustChoosePassword) return c.redirect('/mail', 303);
    const form = await readForm(c);
    const password = field(form, 'password', 2048);
    const mismatch = confirmationError(password, field(form, 'confirm', 2048));
    if (mismatch) return c.html(<ChoosePasswordPage viewer={viewer} errors={{ confirm: mismatch }} />, 422);
    try {
      await chooseFirstPassword(c.get('ctx'), { userId: viewer.session.userId, password, keepWebSessionId: viewer.session.id });
    } catch (e) {
      // Chosen meanwhile in another tab: nothing left to do here.
      if (isPosternError(e) && e.code === 'PASSWORD_ALREADY_CHOSEN') return c.redirect('/mail', 303);
      if (!isPosternError(e) || !['PASSWORD_TOO_SHORT', 'INVALID_INPUT'].includes(e.code)) throw e;
      return c.html(<ChoosePasswordPage viewer={viewer} errors={{ password: e.userMessage }} />, 422);
    }
    await renewSessionsAfterPasswordChange(c, policy);
    return c.redirect('/mail', 303);
  });

  return app;
}
