/** Options → Password and the first-login "Choose your password" page: the same fields, two framings. */
import type { Viewer } from '../env.js';
import { Page } from './layout.js';
import { CsrfField, Field, Notice } from './ui.js';

export type PasswordFieldName = 'current' | 'password' | 'confirm';

export interface PasswordFormState {
  /** Errors next to the field they concern; `form` above the form (throttling). */
  errors?: Partial<Record<PasswordFieldName | 'form', string>>;
  ok?: string | null;
}

const NEW_HINT = 'At least 8 characters. A few unrelated words are easy to remember and hard to guess.';

function NewPasswordFields(p: { errors: PasswordFormState['errors'] }) {
  return (
    <>
      <Field label="New password" name="password" type="password" autocomplete="new-password" hint={NEW_HINT} error={p.errors?.password} maxlength={1024} required />
      <Field label="New password again" name="confirm" type="password" autocomplete="new-password" error={p.errors?.confirm} maxlength={1024} required />
    </>
  );
}

export function ChangePasswordPage(p: { viewer: Viewer } & PasswordFormState) {
  return (
    <Page title="Password" viewer={p.viewer} path="/options/password">
      <h1>Password</h1>
      <p class="muted">
        Your main password opens everything, including Options. Changing it signs you out of every other browser, and mail apps must be given
        the new one (app passwords keep working).
      </p>
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      {p.errors?.form ? <Notice kind="error">{p.errors.form}</Notice> : null}
      <div class="card">
        <form method="post" action="/options/password">
          <CsrfField token={p.viewer.session.csrfToken} />
          <Field
            label="Current password"
            name="current"
            type="password"
            autocomplete="current-password"
            error={p.errors?.current}
            maxlength={1024}
            required
            autofocus
          />
          <NewPasswordFields errors={p.errors} />
          <div class="actions">
            <button type="submit" class="button">
              Change password
            </button>
          </div>
        </form>
      </div>
    </Page>
  );
}

export function ChoosePasswordPage(p: { viewer: Viewer } & PasswordFormState) {
  return (
    <Page title="Choose your password" viewer={p.viewer} path="/choose-password">
      <h1>Choose your password</h1>
      <div class="card">
        <p>
          You logged in with the initial password you were given. Choose your own password now; the initial one stops working, also in mail
          apps.
        </p>
        {p.errors?.form ? <Notice kind="error">{p.errors.form}</Notice> : null}
        <form method="post" action="/choose-password">
          <CsrfField token={p.viewer.session.csrfToken} />
          <NewPasswordFields errors={p.errors} />
          <div class="actions">
            <button type="submit" class="button">
              Save my password
            </button>
          </div>
        </form>
      </div>
    </Page>
  );
}
