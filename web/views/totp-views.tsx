/**
 * The authenticator-app screens: the login's code page (which says nothing about the account: whoever
 * sees it learns neither the name nor which login was used) and the enrolment page on Options.
 */
import type { Viewer } from '../env.js';
import { BarePage, Page } from './layout.js';
import { CsrfField, Field, Notice } from './ui.js';

export function TotpCodePage(props: { error?: string | null }) {
  return (
    <BarePage title="Enter your code">
      <h1>Enter the code from your app</h1>
      <p>Open your authenticator app and type the 6-digit code it shows now.</p>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form method="post" action="/login/app-code">
        <Field label="Code" name="code" inputmode="numeric" autocomplete="one-time-code" class="code-input" required autofocus maxlength={12} pattern="[0-9 ]*" />
        <button type="submit" class="button">
          Log in
        </button>
      </form>
      <p>
        <a href="/login?cancel=1">Cancel and start again</a>
      </p>
    </BarePage>
  );
}

export interface TotpEnrolmentView {
  sealed: string;
  qrSvg: string;
  grouped: string;
}

export interface TotpEnrolmentValues {
  label?: string;
  services?: string[];
  restricted?: boolean;
}

/**
 * Step 2 of enrolment: scan (or type) the secret, choose the password typed before each code, and prove
 * the app works with a current code. The QR code is an SVG drawn on the server: no script, no request to
 * another host.
 */
export function TotpEnrolmentPage(p: { viewer: Viewer; enrolment: TotpEnrolmentView; formKey: string; error?: string | null; values?: TotpEnrolmentValues }) {
  const v = p.values;
  const services = v?.services ?? ['web', 'imap', 'smtp'];
  return (
    <Page title="Set up an authenticator app" viewer={p.viewer} path="/options/alt-logins">
      <h1>Set up an authenticator app</h1>
      <div class="card">
        <p>Scan this code with your authenticator app (for example Aegis, FreeOTP, Google Authenticator or 1Password).</p>
        <div class="qr" role="img" aria-label="QR code of the secret for your authenticator app" dangerouslySetInnerHTML={{ __html: p.enrolment.qrSvg }} />
        <p>Or type this secret into the app by hand (time-based, 6 digits, every 30 seconds):</p>
        <p class="secret-box" id="totp-secret">
          {p.enrolment.grouped}
        </p>
      </div>
      <div class="card" id="confirm-totp">
        <h2>Confirm</h2>
        <form method="post" action="/options/alt-logins/totp">
          <CsrfField token={p.viewer.session.csrfToken} />
          <input type="hidden" name="form_key" value={p.formKey} />
          <input type="hidden" name="enrolment" value={p.enrolment.sealed} />
          {p.error ? <Notice kind="error">{p.error}</Notice> : null}
          <Field id="totp-label" label="Label" name="label" value={v?.label ?? 'Authenticator app'} maxlength={80} />
          <Field
            id="totp-password"
            label="Password for this login"
            name="secret"
            type="password"
            autocomplete="new-password"
            hint="Typed before each code: at least 8 characters, different from your main password. Mail programs take it immediately followed by the code."
          />
          <Field id="totp-confirm" label="Repeat it" name="confirm" type="password" autocomplete="new-password" />
          <fieldset class="checks">
            <legend class="visually-hidden">Services</legend>
            {(['web', 'imap', 'smtp'] as const).map((s) => (
              <label>
                <input type="checkbox" name="services" value={s} checked={services.includes(s)} />
                {{ web: 'Web', imap: 'IMAP (mail apps)', smtp: 'SMTP (sending)' }[s]}
              </label>
            ))}
          </fieldset>
          <div class="checks">
            <label>
              <input type="checkbox" name="restricted" value="1" checked={v?.restricted} />
              Restricted — sessions made with it can never delete mail or change settings
            </label>
          </div>
          <Field id="totp-code" label="Code the app shows now" name="code" inputmode="numeric" autocomplete="one-time-code" class="code-input" maxlength={12} pattern="[0-9 ]*" autofocus={Boolean(p.error)} />
          <div class="actions">
            <button type="submit" class="button">
              Confirm and create
            </button>
            <a class="button secondary" href="/options/alt-logins">
              Cancel
            </a>
          </div>
        </form>
      </div>
    </Page>
  );
}
