/**
 * "Confirm your password": re-entering the main password opens a 5-minute window for changes and
 * replaces the session token (a token stolen before the step-up is useless after it). Wrong passwords
 * count against the same throttle as logins, so a hijacked session cannot guess the main password.
 */
import { Hono } from 'hono';
import { verifyMainPassword } from '../../../src/accounts/users.js';
import { audit } from '../../../src/audit.js';
import { checkThrottle, recordFailure } from '../../../src/auth/throttle.js';
import { rotateWebSession } from '../../../src/auth/web-sessions.js';
import { writeSessionCookie, type CookiePolicy } from '../../cookies.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, viewerOf } from '../../middleware/session.js';
import { Page } from '../../views/layout.js';
import { CsrfField, Field, Notice, formatDuration } from '../../views/ui.js';
import type { Viewer } from '../../env.js';

/** Only places inside Options and Manage may be returned to (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(options(\/[a-z-]*)?|manage\/[0-9]{1,10}(\/[a-z-]+){0,2})$/.test(next) ? next : '/options';
}

function ConfirmPage(props: { viewer: Viewer; next: string; error?: string | null }) {
  return (
    <Page title="Confirm your password" viewer={props.viewer} path="/options">
      <h1>Confirm your password</h1>
      <div class="card">
        <p>To change your settings, enter your main password again. You will not be asked again for 5 minutes.</p>
        {props.error ? <Notice kind="error">{props.error}</Notice> : null}
        <form method="post" action="/options/confirm">
          <CsrfField token={props.viewer.session.csrfToken} />
          <input type="hidden" name="next" value={props.next} />
          <Field label="Main password" name="password" type="password" autocomplete="current-password" required autofocus />
          <div class="actions">
            <button type="submit" class="button">
              Confirm
            </button>
            <a class="button secondary" href={props.next}>
              Cancel
            </a>
          </div>
        </form>
      </div>
    </Page>
  );
}

export function createStepUpRoutes(policy: CookiePolicy) {
  const app = new Hono<WebEnv>();

  app.get('/', (c) => c.html(<ConfirmPage viewer={viewerOf(c)} next={safeNext(c.req.query('next'))} />));

  app.post('/', async (c) => {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const s = viewer.session;
    const form = await readForm(c);
    const next = safeNext(field(form, 'next', 100));
    const attempt = { username: s.username, ip: c.get('ip') };
    const verdict = await checkThrottle(ctx, { ...attempt, userId: s.userId });
    if (verdict.blocked) {
      const error = `Too many failed attempts. Try again in ${formatDuration(verdict.retryAfterSeconds)}.`;
      return c.html(<ConfirmPage viewer={viewer} next={next} error={error} />, 429);
    }
    if (!(await verifyMainPassword(ctx, s.userId, field(form, 'password', 1024)))) {
      await recordFailure(ctx, attempt);
      await audit(ctx.db, { event: 'login.failed', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'step-up-wrong', method: 'main' } });
      return c.html(<ConfirmPage viewer={viewer} next={next} error="That is not your main password." />, 401);
    }
    const { token } = await rotateWebSession(ctx, s, { ip: c.get('ip'), userAgent: c.req.header('user-agent'), reauthenticated: true });
    writeSessionCookie(c, policy, token);
    return c.redirect(next, 303);
  });

  return app;
}
