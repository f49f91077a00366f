/**
 * Options → Alternative Logins. Creation pages that show a secret (app password, one-time list) answer
 * the POST directly and are never stored or reachable again by URL; `after` (the highest login id when
 * the form was drawn) makes a reload of that POST refuse instead of silently voiding the printed list.
 */
import { Hono, type Context } from 'hono';
import {
  createAppPassword,
  createOneTimeList,
  createUserChosenLogin,
  listAltLogins,
  revokeAltLogin,
} from '../../../src/accounts/alt-logins.js';
import { getDefaultPersonality } from '../../../src/accounts/personalities.js';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { isPosternError } from '../../../src/errors.js';
import { describeSmsPayment } from '../../../src/sms/payer.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, requireStepUp, viewerOf } from '../../middleware/session.js';
import { AltLoginsPage, AppPasswordShownPage, KIND_NAMES, OneTimeListPrintPage } from '../../views/alt-login-views.js';

const RESUBMITTED = 'That form was already sent once (perhaps by reloading the page), so nothing more was created.';

export function createAltLoginRoutes() {
  const app = new Hono<WebEnv>();
  app.use('*', requireStepUp());

  async function render(c: Context<WebEnv>, notes: { error?: string | null; ok?: string | null } = {}, status: 200 | 409 | 422 = 200) {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const userId = viewer.session.userId;
    const [logins, all, personality, smsPayment] = await Promise.all([
      listAltLogins(ctx, userId),
      listAltLogins(ctx, userId, { includeRevoked: true }),
      getDefaultPersonality(ctx, userId),
      describeSmsPayment(ctx.db, userId),
    ]);
    return c.html(
      <AltLoginsPage
        viewer={viewer}
        logins={logins}
        after={Math.max(0, ...all.map((l) => l.id))}
        stepUpFresh={hasRecentStepUp(viewer.session)}
        mobileHint={personality?.mobile ? personality.mobile.slice(-2) : null}
        smsPayment={smsPayment}
        {...notes}
      />,
      status,
    );
  }

  /** Whether a login was created since the form was drawn (a resubmission). */
  async function isResubmission(c: Context<WebEnv>, form: Record<string, string | string[]>): Promise<boolean> {
    const after = Number(field(form, 'after', 12));
    const all = await listAltLogins(c.get('ctx'), viewerOf(c).session.userId, { includeRevoked: true });
    return !Number.isInteger(after) || all.some((l) => l.id > after);
  }

  function common(form: Record<string, string | string[]>) {
    const services = form.services;
    return {
      label: field(form, 'label', 200),
      restricted: field(form, 'restricted') === '1',
      services: services === undefined ? undefined : Array.isArray(services) ? services : [services],
    };
  }

  /** Domain refusals (too short, too many, same as main …) are shown on the page; anything else is a bug. */
  async function attempt(c: Context<WebEnv>, fn: () => Promise<Response>): Promise<Response> {
    try {
      return await fn();
    } catch (e) {
      if (isPosternError(e) && e.code !== 'INTERNAL') return render(c, { error: e.userMessage }, 422);
      throw e;
    }
  }

  app.get('/', (c) =>
    render(c, {
      ok: c.req.query('created') !== undefined ? 'The login was created.' : c.req.query('revoked') !== undefined ? 'The login was revoked.' : null,
    }),
  );

  for (const kind of ['password', 'sms'] as const) {
    app.post(`/${kind}`, async (c) => {
      const form = await readForm(c);
      if (await isResubmission(c, form)) return render(c, { error: RESUBMITTED }, 409);
      const secret = field(form, 'secret', 2048);
      if (secret !== field(form, 'confirm', 2048)) return render(c, { error: 'The two passwords are not the same.' }, 422);
      return attempt(c, async () => {
        const userId = viewerOf(c).session.userId;
        await createUserChosenLogin(c.get('ctx'), { userId, kind, secret, ...common(form), actorUserId: userId });
        return c.redirect('/options/alt-logins?created=1', 303);
      });
    });
  }

  app.post('/app', async (c) => {
    const form = await readForm(c);
    if (await isResubmission(c, form)) return render(c, { error: RESUBMITTED }, 409);
    return attempt(c, async () => {
      const viewer = viewerOf(c);
      const userId = viewer.session.userId;
      const { login, secret } = await createAppPassword(c.get('ctx'), { userId, ...common(form), actorUserId: userId });
      return c.html(<AppPasswordShownPage viewer={viewer} label={login.label} secret={secret} />);
    });
  });

  app.post('/otp', async (c) => {
    const form = await readForm(c);
    if (await isResubmission(c, form)) return render(c, { error: RESUBMITTED }, 409);
    const count = Number(field(form, 'count', 6) || '100');
    return attempt(c, async () => {
      const viewer = viewerOf(c);
      const userId = viewer.session.userId;
      const { login, codes } = await createOneTimeList(c.get('ctx'), {
        userId,
        count,
        label: common(form).label,
        restricted: common(form).restricted,
        actorUserId: userId,
      });
      return c.html(
        <OneTimeListPrintPage viewer={viewer} label={login.label} username={viewer.session.username} codes={codes} createdAt={login.createdAt} />,
      );
    });
  });

  app.post('/:id{[0-9]+}/revoke', async (c) =>
    attempt(c, async () => {
      const userId = viewerOf(c).session.userId;
      const login = await revokeAltLogin(c.get('ctx'), { loginId: Number(c.req.param('id')), userId, actorUserId: userId });
      c.get('ctx').log.info({ userId, loginId: login.id, kind: KIND_NAMES[login.kind] }, 'alternative login revoked (web)');
      return c.redirect('/options/alt-logins?revoked=1', 303);
    }),
  );

  return app;
}
