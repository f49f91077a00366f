/**
 * "Confirm your password": re-entering the main password opens a 5-minute window for changes and
 * replaces the session token (a token stolen before the step-up is useless after it). Wrong passwords
 * count against the same throttle as logins, so a hijacked session cannot guess the main password.
 *
 * When a change sent the person here (requireStepUp), it waited server-side; after the confirmation it is
 * run once, through the whole app with the new session, and its answer is the answer to this form: the
 * change is made (or its form shown again with the error), never silently lost. The page sits under the
 * sidebar section the change came from (Manage or Options).
 */
import { Hono, type Context } from 'hono';
import { verifyMainPassword } from '../../../src/accounts/users.js';
import { audit } from '../../../src/audit.js';
import { isPendingActionId, takePendingAction, type PendingAction } from '../../../src/auth/pending-actions.js';
import { recordFailure, releaseReservation, reserveUserAttempt } from '../../../src/auth/throttle.js';
import { isKnownDeviceOf } from '../../known-device.js';
import { rotateWebSession, validateWebSession } from '../../../src/auth/web-sessions.js';
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

function ConfirmPage(props: { viewer: Viewer; next: string; pending: string | null; error?: string | null }) {
  return (
    <Page title="Confirm your password" viewer={props.viewer} path={props.next}>
      <h1>Confirm your password</h1>
      <div class="card">
        <p>
          {props.pending
            ? 'To finish your change, enter your main password again. The change is made right after, and you will not be asked again for 5 minutes.'
            : 'To change your settings, enter your main password again. You will not be asked again for 5 minutes.'}
        </p>
        {props.error ? <Notice kind="error">{props.error}</Notice> : null}
        <form method="post" action="/options/confirm">
          <CsrfField token={props.viewer.session.csrfToken} />
          <input type="hidden" name="next" value={props.next} />
          {props.pending ? <input type="hidden" name="pending" value={props.pending} /> : null}
          <Field label="Main password" name="password" type="password" autocomplete="current-password" required autofocus />
          <div class="actions">
            <button type="submit" class="button">
              {props.pending ? 'Confirm and save the change' : 'Confirm'}
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

/** The waiting change, sent again as the browser sent it, with the new session and its form token. */
async function runPending(c: Context<WebEnv>, policy: CookiePolicy, token: string, action: PendingAction): Promise<Response> {
  const lookup = await validateWebSession(c.get('ctx'), token);
  if (!lookup.ok) return c.redirect(action.path, 303);
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(action.form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  body.set('_csrf', lookup.session.csrfToken);
  const headers = new Headers(c.req.raw.headers);
  headers.set('cookie', `${policy.sessionName}=${token}`);
  headers.set('content-type', 'application/x-www-form-urlencoded');
  headers.delete('content-length');
  const answer = await c.get('dispatch')(new Request(new URL(action.path, c.req.url), { method: 'POST', headers, body }));
  const out: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  return c.body(await answer.arrayBuffer(), answer.status as 200, out);
}

export function createStepUpRoutes(policy: CookiePolicy) {
  const app = new Hono<WebEnv>();

  const pendingOf = (id: string | undefined) => (isPendingActionId(id) ? id : null);

  app.get('/', (c) => c.html(<ConfirmPage viewer={viewerOf(c)} next={safeNext(c.req.query('next'))} pending={pendingOf(c.req.query('pending'))} />));

  app.post('/', async (c) => {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const s = viewer.session;
    const form = await readForm(c);
    const next = safeNext(field(form, 'next', 100));
    const pending = pendingOf(field(form, 'pending', 64));
    // Reserve, then settle (throttle.ts): the guess is counted before the password is checked, so a burst
    // of concurrent wrong submissions is throttled exactly like the same submissions one after another.
    const reserved = await reserveUserAttempt(ctx, { username: s.username, ip: c.get('ip'), userId: s.userId, knownDevice: isKnownDeviceOf(c, policy, ctx.secretKey, s.userId) });
    if (reserved.blocked) {
      c.header('Retry-After', String(reserved.retryAfterSeconds));
      const error = `Too many failed attempts. Try again in ${formatDuration(reserved.retryAfterSeconds)}.`;
      return c.html(<ConfirmPage viewer={viewer} next={next} pending={pending} error={error} />, 429);
    }
    const attempt = { username: s.username, ip: c.get('ip'), reservation: reserved.reservation };
    let right: boolean;
    try {
      right = await verifyMainPassword(ctx, s.userId, field(form, 'password', 1024));
    } catch (e) {
      await releaseReservation(ctx, reserved.reservation);
      throw e;
    }
    if (!right) {
      await recordFailure(ctx, attempt);
      await audit(ctx.db, { event: 'login.failed', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'step-up-wrong', method: 'main' } });
      return c.html(<ConfirmPage viewer={viewer} next={next} pending={pending} error="That is not your main password." />, 401);
    }
    // The right password is not a guess: its count goes back.
    await releaseReservation(ctx, reserved.reservation);
    // Taken before the rotation: the waiting change belongs to the session id that sent it.
    const action = pending ? await takePendingAction(ctx, { id: pending, sessionId: s.id, userId: s.userId }) : null;
    const { token } = await rotateWebSession(ctx, s, { ip: c.get('ip'), userAgent: c.req.header('user-agent'), reauthenticated: true });
    writeSessionCookie(c, policy, token);
    if (action) return runPending(c, policy, token, action);
    return c.redirect(next, 303);
  });

  return app;
}
