/**
 * Options → Alternative Logins. Creation pages that show a secret (app password, one-time list) answer
 * the POST directly and are never stored or reachable again by URL.
 *
 * Replay protection belongs to each drawn form, not to the session: every form carries its own random
 * `form_key`, stored with the login it creates (unique). The same form sent twice (double click, reload
 * of the POST) creates once and says so; a form from an older tab still works, because nothing was made
 * with its key. A form that fails is drawn again with its error inside it and what was typed (except
 * secrets), focused, so the error is next to the form that failed.
 */
import crypto from 'node:crypto';
import { Hono, type Context } from 'hono';
import {
  createAppPassword,
  createOneTimeList,
  createUserChosenLogin,
  listAltLogins,
  parseValidFor,
  revokeAltLogin,
} from '../../../src/accounts/alt-logins.js';
import { getDefaultPersonality } from '../../../src/accounts/personalities.js';
import { confirmTotpEnrolment, reopenTotpEnrolment, startTotpEnrolment, type TotpEnrolment } from '../../../src/accounts/totp-enrolment.js';
import { listOpenWindows } from '../../../src/auth/login-windows.js';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { isPosternError } from '../../../src/errors.js';
import { describeSmsPayment } from '../../../src/sms/payer.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, requireStepUp, viewerOf, type Form } from '../../middleware/session.js';
import { TotpEnrolmentPage } from '../../views/totp-views.js';
import { renderQrSvg } from '../../qr-svg.js';
import { AltLoginsPage, AppPasswordShownPage, KIND_NAMES, OneTimeListPrintPage, type AltLoginFormName, type FailedForm } from '../../views/alt-login-views.js';

const FORM_KEY = /^[A-Za-z0-9_-]{24}$/;

function newFormKey(): string {
  return crypto.randomBytes(18).toString('base64url');
}

export function createAltLoginRoutes() {
  const app = new Hono<WebEnv>();
  app.use('*', requireStepUp());

  async function render(c: Context<WebEnv>, notes: { error?: string | null; ok?: string | null; failed?: FailedForm } = {}, status: 200 | 409 | 422 = 200) {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const userId = viewer.session.userId;
    const [logins, personality, smsPayment] = await Promise.all([
      listAltLogins(ctx, userId),
      getDefaultPersonality(ctx, userId),
      describeSmsPayment(ctx.db, userId),
    ]);
    const openWindows = await listOpenWindows(ctx, logins);
    return c.html(
      <AltLoginsPage
        viewer={viewer}
        logins={logins}
        formKey={newFormKey}
        openWindows={openWindows}
        stepUpFresh={hasRecentStepUp(viewer.session)}
        mobileHint={personality?.mobile ? personality.mobile.slice(-2) : null}
        smsPayment={smsPayment}
        {...notes}
      />,
      status,
    );
  }

  function common(form: Form) {
    const services = form.services;
    return {
      label: field(form, 'label', 200),
      restricted: field(form, 'restricted') === '1',
      services: services === undefined ? undefined : Array.isArray(services) ? services : [services],
    };
  }

  /** What the failed form is drawn again with: everything typed but the secrets. */
  function keptValues(form: Form): FailedForm['values'] {
    const { label, restricted, services } = common(form);
    return { label, restricted, services: services ?? [], count: field(form, 'count', 6), validFor: field(form, 'valid_for', 8), recovery: field(form, 'recovery') === '1' };
  }

  function validFor(form: Form): number | null {
    const v = field(form, 'valid_for', 8);
    return v ? parseValidFor(v) : null;
  }

  /**
   * Runs one creation form. Domain refusals (too short, too many, same as main …) are shown inside the
   * form that failed; a second send of the same form is 409 with what happened; anything else is a bug.
   */
  async function attempt(c: Context<WebEnv>, name: AltLoginFormName, fn: (form: Form, creationKey: string) => Promise<Response>): Promise<Response> {
    const form = await readForm(c);
    const fail = (error: string, status: 409 | 422 = 422) => render(c, { failed: { form: name, error, values: keptValues(form) } }, status);
    const key = field(form, 'form_key', 64);
    if (!FORM_KEY.test(key)) return fail('This form is out of date. Please fill it in again.');
    try {
      return await fn(form, key);
    } catch (e) {
      if (isPosternError(e, 'LOGIN_ALREADY_CREATED')) return render(c, { error: e.userMessage }, 409);
      if (isPosternError(e) && e.code !== 'INTERNAL') return fail(e.userMessage);
      throw e;
    }
  }

  app.get('/', (c) =>
    render(c, {
      ok: c.req.query('created') !== undefined ? 'The login was created.' : c.req.query('revoked') !== undefined ? 'The login was revoked.' : null,
    }),
  );

  for (const kind of ['password', 'sms'] as const) {
    app.post(`/${kind}`, (c) =>
      attempt(c, kind, async (form, creationKey) => {
        const secret = field(form, 'secret', 2048);
        if (secret !== field(form, 'confirm', 2048))
          return render(c, { failed: { form: kind, error: 'The two passwords are not the same.', values: keptValues(form) } }, 422);
        const userId = viewerOf(c).session.userId;
        const validForSeconds = kind === 'sms' ? validFor(form) : null;
        await createUserChosenLogin(c.get('ctx'), { userId, kind, secret, validForSeconds, ...common(form), creationKey, actorUserId: userId });
        return c.redirect('/options/alt-logins?created=1', 303);
      }),
    );
  }

  app.post('/app', (c) =>
    attempt(c, 'app', async (form, creationKey) => {
      const viewer = viewerOf(c);
      const userId = viewer.session.userId;
      const { login, secret } = await createAppPassword(c.get('ctx'), { userId, ...common(form), creationKey, actorUserId: userId });
      return c.html(<AppPasswordShownPage viewer={viewer} label={login.label} secret={secret} />);
    }),
  );

  app.post('/otp', (c) =>
    attempt(c, 'otp', async (form, creationKey) => {
      const count = Number(field(form, 'count', 6) || '100');
      const base = field(form, 'base', 2048);
      if (base !== field(form, 'base_confirm', 2048))
        return render(c, { failed: { form: 'otp', error: 'The two base passwords are not the same.', values: keptValues(form) } }, 422);
      const viewer = viewerOf(c);
      const userId = viewer.session.userId;
      const { label, restricted } = common(form);
      const { login, codes } = await createOneTimeList(c.get('ctx'), {
        userId,
        count,
        label,
        restricted,
        validForSeconds: validFor(form),
        basePassword: base || null,
        recovery: field(form, 'recovery') === '1',
        creationKey,
        actorUserId: userId,
      });
      return c.html(
        <OneTimeListPrintPage
          viewer={viewer}
          label={login.label}
          username={viewer.session.username}
          codes={codes}
          createdAt={login.createdAt}
          validForSeconds={login.validForSeconds}
          hasBasePassword={login.secretHash !== null}
        />,
      );
    }),
  );

  // Authenticator app: /totp/start draws a secret and shows it; /totp creates the login once a current
  // code proves the app has it (src/accounts/totp-enrolment.ts). The pending secret is sealed in the form.
  async function enrolmentPage(c: Context<WebEnv>, enrolment: TotpEnrolment, extra: { error?: string; values?: ReturnType<typeof common> } = {}, status: 200 | 409 | 422 = 200) {
    const viewer = viewerOf(c);
    const qrSvg = await renderQrSvg(enrolment.uri);
    const values = extra.values ? { label: extra.values.label, restricted: extra.values.restricted, ...(extra.values.services ? { services: extra.values.services } : { services: [] }) } : undefined;
    return c.html(
      <TotpEnrolmentPage viewer={viewer} enrolment={{ sealed: enrolment.sealed, qrSvg, grouped: enrolment.grouped }} formKey={newFormKey()} error={extra.error ?? null} {...(values ? { values } : {})} />,
      status,
    );
  }

  function binding(c: Context<WebEnv>) {
    const s = viewerOf(c).session;
    return { sessionId: s.id, userId: s.userId, username: s.username };
  }

  app.post('/totp/start', (c) => enrolmentPage(c, startTotpEnrolment(c.get('ctx'), binding(c))));

  app.post('/totp', async (c) => {
    const ctx = c.get('ctx');
    const form = await readForm(c);
    const sealed = field(form, 'enrolment', 400);
    const enrolment = reopenTotpEnrolment(ctx, binding(c), sealed);
    if (!enrolment) return render(c, { failed: { form: 'totp', error: 'That setup page is out of date: start again to get a new secret for your app.', values: {} } }, 422);
    const key = field(form, 'form_key', 64);
    const values = common(form);
    const again = (error: string, status: 409 | 422 = 422) => enrolmentPage(c, enrolment, { error, values }, status);
    if (!FORM_KEY.test(key)) return again('This form is out of date. Please fill it in again.');
    const password = field(form, 'secret', 2048);
    if (password !== field(form, 'confirm', 2048)) return again('The two passwords are not the same.');
    try {
      await confirmTotpEnrolment(ctx, { ...binding(c), sealed, code: field(form, 'code', 32), password, ...values, creationKey: key });
    } catch (e) {
      if (isPosternError(e, 'LOGIN_ALREADY_CREATED')) return render(c, { error: e.userMessage }, 409);
      if (isPosternError(e) && e.code !== 'INTERNAL') return again(e.userMessage);
      throw e;
    }
    return c.redirect('/options/alt-logins?created=1', 303);
  });

  app.post('/:id{[0-9]+}/revoke', async (c) => {
    const userId = viewerOf(c).session.userId;
    try {
      const login = await revokeAltLogin(c.get('ctx'), { loginId: Number(c.req.param('id')), userId, actorUserId: userId });
      c.get('ctx').log.info({ userId, loginId: login.id, kind: KIND_NAMES[login.kind] }, 'alternative login revoked (web)');
      return c.redirect('/options/alt-logins?revoked=1', 303);
    } catch (e) {
      if (isPosternError(e) && e.code !== 'INTERNAL') return render(c, { error: e.userMessage }, 422);
      throw e;
    }
  });

  return app;
}
