/** Options → Alternative Logins: the list, the creation forms, and the shown-once pages. */
import type { AltLoginSummary, OneTimeCode } from '../../src/accounts/alt-logins.js';
import type { LoginKind } from '../../src/db/schema.js';
import type { SmsPaymentSummary } from '../../src/sms/payer.js';
import type { Viewer } from '../env.js';
import { Page } from './layout.js';
import { maskedNumber } from './login-views.js';
import { CsrfField, Field, Notice, PostButton, Time } from './ui.js';

export const KIND_NAMES: Record<LoginKind, string> = {
  password: 'Alternate password',
  sms: 'SMS password',
  app: 'App password',
  otp: 'One-time password list',
  totp: 'Authenticator app (password + code)',
};

/** The creation forms of the page; a failed one shows its error inside itself. */
export type AltLoginFormName = 'otp' | 'sms' | 'password' | 'app' | 'totp';

/** What a failed form sent (never its secrets), to draw it again as it was, with the error in it. */
export interface FailedForm {
  form: AltLoginFormName;
  error: string;
  values: { label?: string; services?: string[]; restricted?: boolean; count?: string; validFor?: string; recovery?: boolean };
}

export interface AltLoginsPageProps {
  viewer: Viewer;
  logins: AltLoginSummary[];
  /** One random key per drawn form: a form sent twice creates once, a stale tab's form still works. */
  formKey: () => string;
  /** Open 1-hour windows by login id: "valid until HH:MM". */
  openWindows?: Map<number, Date>;
  stepUpFresh: boolean;
  mobileHint: string | null;
  /** Who pays for SMS codes (the group or the member), never the group's balance or ledger. */
  smsPayment?: SmsPaymentSummary;
  failed?: FailedForm | null;
  error?: string | null;
  ok?: string | null;
}

/** "14:32 UTC": the end of a 1-hour window, in the time zone the server says it uses. */
export function formatClock(d: Date): string {
  return `${d.toISOString().slice(11, 16)} UTC`;
}

/** The kind as the list and the print view say it: which kind, how long a code works, the base password. */
export function describeKind(l: Pick<AltLoginSummary, 'kind' | 'validForSeconds' | 'hasBasePassword'> & { recovery?: boolean }): string {
  const parts: string[] = [KIND_NAMES[l.kind]];
  if (l.kind === 'otp') parts.push(l.validForSeconds ? 'each code valid for 1 hour from first use' : 'each code works once');
  if (l.kind === 'sms' && l.validForSeconds) parts.push('each code valid for 1 hour from first use');
  if (l.hasBasePassword) parts.push('base password typed first');
  if (l.recovery) parts.push('recovery list for a lost phone: each use is reported to you');
  return parts.join(' · ');
}

function Services(props: { name: string; checked: string[] }) {
  return (
    <fieldset class="checks">
      <legend class="visually-hidden">Services</legend>
      {(['web', 'imap', 'smtp'] as const).map((s) => (
        <label>
          <input type="checkbox" name={props.name} value={s} checked={props.checked.includes(s)} />
          {{ web: 'Web', imap: 'IMAP (mail apps)', smtp: 'SMTP (sending)' }[s]}
        </label>
      ))}
    </fieldset>
  );
}

/** Whether the member's group pays for their SMS codes and can pay right now; no balance, no ledger. */
function SmsPaymentNotice(props: { payment: SmsPaymentSummary }) {
  const { group, personalBalance } = props.payment;
  const own = `your own SMS credits (${personalBalance} left)`;
  if (!group) return <p class="sms-payment">SMS codes are paid from {own}.</p>;
  if (!group.allowSms)
    return (
      <Notice kind="info">
        SMS logins are not paid by {group.name}: an administrator has not allowed them. Codes are paid from {own}.
      </Notice>
    );
  if (group.hasCredits) return <Notice kind="ok">SMS logins are paid by {group.name}, which has SMS credits available.</Notice>;
  return (
    <Notice kind="warn">
      SMS logins are paid by {group.name}, but it has no SMS credits left right now: codes are paid from {own} until an administrator buys
      more.
    </Notice>
  );
}

function RestrictedBox(props: { checked?: boolean }) {
  return (
    <div class="checks">
      <label>
        <input type="checkbox" name="restricted" value="1" checked={props.checked} />
        Restricted — sessions made with it can never delete mail or change settings
      </label>
    </div>
  );
}

/** Single use, or one hour from first use (issue 17). */
function ValidityChoice(props: { form: AltLoginFormName; what: string; value?: string }) {
  const hour = props.value === '1h';
  return (
    <fieldset class="checks">
      <legend>{props.what}</legend>
      <label>
        <input type="radio" name="valid_for" value="" checked={!hour} />
        once (one session)
      </label>
      <label>
        <input type="radio" name="valid_for" value="1h" checked={hour} />
        for 1 hour from its first use (mail programs reconnect with it)
      </label>
    </fieldset>
  );
}

/** A password the person chooses (SMS or alternate): typed twice, for every service by default. */
function ChosenSecretFields(props: { form: AltLoginFormName; name: string; values: FailedForm['values'] | undefined; focus: boolean }) {
  const v = props.values;
  return (
    <>
      <Field id={`${props.form}-label`} label="Label" name="label" value={v?.label ?? props.name} maxlength={80} />
      <Field
        id={`${props.form}-secret`}
        label={props.name}
        name="secret"
        type="password"
        autocomplete="new-password"
        autofocus={props.focus}
        hint="At least 8 characters, different from your main password."
      />
      <Field id={`${props.form}-confirm`} label="Repeat it" name="confirm" type="password" autocomplete="new-password" />
      <Services name="services" checked={v?.services ?? ['web', 'imap', 'smtp']} />
      <RestrictedBox checked={v?.restricted} />
    </>
  );
}

function CreateForm(props: {
  form: AltLoginFormName;
  title: string;
  csrf: string;
  formKey: string;
  failed: FailedForm | null | undefined;
  children: unknown;
  button: string;
}) {
  const error = props.failed?.form === props.form ? props.failed.error : null;
  return (
    <div class="card" id={`new-${props.form}`}>
      <h2>{props.title}</h2>
      <form method="post" action={`/options/alt-logins/${props.form}`}>
        <CsrfField token={props.csrf} />
        <input type="hidden" name="form_key" value={props.formKey} />
        {error ? <Notice kind="error">{error}</Notice> : null}
        {props.children}
        <div class="actions">
          <button type="submit" class="button">
            {props.button}
          </button>
        </div>
      </form>
    </div>
  );
}

export function AltLoginsPage(p: AltLoginsPageProps) {
  const csrf = p.viewer.session.csrfToken;
  const failed = p.failed;
  const valuesOf = (form: AltLoginFormName) => (failed?.form === form ? failed.values : undefined);
  const focus = (form: AltLoginFormName) => failed?.form === form;
  return (
    <Page title="Alternative Logins" viewer={p.viewer} path="/options/alt-logins">
      <h1>Alternative Logins</h1>
      <p class="muted">Other ways to log in, for places and programs you do not fully trust.</p>
      {!p.stepUpFresh ? (
        <Notice kind="info">
          Changes need your main password again.{' '}
          <a href="/options/confirm?next=%2Foptions%2Falt-logins">Confirm your password now</a>.
        </Notice>
      ) : null}
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      {p.error ? <Notice kind="error">{p.error}</Notice> : null}
      {p.logins.length ? (
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Label</th>
              <th scope="col">Restricted</th>
              <th scope="col">Services</th>
              <th scope="col">Last used</th>
              <th scope="col">Codes left</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.logins.map((l) => {
              const until = p.openWindows?.get(l.id);
              return (
                <tr>
                  <td data-label="Kind">{describeKind(l)}</td>
                  <td data-label="Label">{l.label}</td>
                  <td data-label="Restricted">{l.restricted ? <span class="tag warn">restricted</span> : 'no'}</td>
                  <td data-label="Services">{l.services.join(', ')}</td>
                  <td data-label="Last used">
                    <Time at={l.lastUsedAt} /> {l.useCount ? <span class="muted">({l.useCount}×)</span> : null}
                    {until ? <span class="tag">in use, valid until {formatClock(until)}</span> : null}
                  </td>
                  <td data-label="Codes left">{l.kind === 'otp' ? `${l.remainingCodes} of ${l.totalCodes}` : '—'}</td>
                  <td>
                    <PostButton
                      action={`/options/alt-logins/${l.id}/revoke`}
                      csrf={csrf}
                      label="Revoke"
                      variant="danger"
                      ariaLabel={`Revoke ${KIND_NAMES[l.kind]} “${l.label}”`}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <div class="card">You have no alternative logins yet.</div>
      )}

      <CreateForm form="otp" title="New one-time password list" csrf={csrf} formKey={p.formKey()} failed={failed} button="Create and print the list">
        <p class="muted">Print the list and keep it with you; a new list voids the old one.</p>
        <Field id="otp-label" label="Label" name="label" value={valuesOf('otp')?.label ?? 'One-time codes'} maxlength={80} autofocus={focus('otp')} />
        <Field id="otp-count" label="Number of codes" name="count" type="number" value={valuesOf('otp')?.count ?? '100'} min={1} max={1000} />
        <ValidityChoice form="otp" what="Each code works" value={valuesOf('otp')?.validFor} />
        <Field
          id="otp-base"
          label="Base password (optional)"
          name="base"
          type="password"
          autocomplete="new-password"
          hint="If you choose one, each code must be typed right after it, with nothing between them: a lost list alone is then useless. It is not printed."
        />
        <Field id="otp-base-confirm" label="Repeat the base password" name="base_confirm" type="password" autocomplete="new-password" />
        <RestrictedBox checked={valuesOf('otp')?.restricted} />
        <div class="checks">
          <label>
            <input type="checkbox" name="recovery" value="1" checked={valuesOf('otp')?.recovery} />
            Recovery list — my way in if I lose my phone (each use is reported to me)
          </label>
        </div>
      </CreateForm>

      <CreateForm form="sms" title="New SMS password" csrf={csrf} formKey={p.formKey()} failed={failed} button="Create SMS password">
        <p class="muted">
          Logging in with it sends a code to the Mobile number of your default personality
          {p.mobileHint ? ` (${maskedNumber(p.mobileHint)})` : ''}; only the password and the code together open a session.
        </p>
        {p.smsPayment ? <SmsPaymentNotice payment={p.smsPayment} /> : null}
        {!p.mobileHint ? (
          <Notice kind="warn">
            Your default personality has no Mobile number yet: <a href="/options/personalities">set it in Personalities</a>.
          </Notice>
        ) : null}
        <ChosenSecretFields form="sms" name="SMS password" values={valuesOf('sms')} focus={focus('sms')} />
        <ValidityChoice form="sms" what="Each texted code works" value={valuesOf('sms')?.validFor} />
      </CreateForm>

      <div class="card" id="new-totp">
        <h2>New authenticator app</h2>
        <form method="post" action="/options/alt-logins/totp/start">
          <CsrfField token={csrf} />
          {failed?.form === 'totp' ? <Notice kind="error">{failed.error}</Notice> : null}
          <p class="muted">
            A password you choose, then the 6-digit code your phone's authenticator app shows (mail programs: the password immediately
            followed by the code). Free: no SMS is sent.
          </p>
          <div class="actions">
            <button type="submit" class="button">
              Set up an authenticator app
            </button>
          </div>
        </form>
      </div>

      <CreateForm form="password" title="New alternate password" csrf={csrf} formKey={p.formKey()} failed={failed} button="Create alternate password">
        <ChosenSecretFields form="password" name="Alternate password" values={valuesOf('password')} focus={focus('password')} />
      </CreateForm>

      <CreateForm form="app" title="New app password" csrf={csrf} formKey={p.formKey()} failed={failed} button="Generate app password">
        <p class="muted">For a mail program. It is shown once.</p>
        <Field id="app-label" label="Label" name="label" value={valuesOf('app')?.label ?? 'App password'} maxlength={80} autofocus={focus('app')} />
        <Services name="services" checked={valuesOf('app')?.services ?? ['imap', 'smtp']} />
        <RestrictedBox checked={valuesOf('app')?.restricted} />
      </CreateForm>
    </Page>
  );
}

export function AppPasswordShownPage(p: { viewer: Viewer; label: string; secret: string }) {
  return (
    <Page title="Your new app password" viewer={p.viewer} path="/options/alt-logins">
      <h1>Your new app password</h1>
      <div class="card">
        <p>
          Type or paste it into your mail program now as the password for “{p.label}”. <strong>It will not be shown again.</strong>
        </p>
        <p class="secret-box" id="app-password">
          {p.secret}
        </p>
        <div class="actions">
          <a class="button" href="/options/alt-logins">
            Done
          </a>
        </div>
      </div>
    </Page>
  );
}

export function OneTimeListPrintPage(p: {
  viewer: Viewer;
  label: string;
  username: string;
  codes: OneTimeCode[];
  createdAt: Date;
  validForSeconds: number | null;
  hasBasePassword: boolean;
}) {
  const use = p.validForSeconds ? 'each code, once used, works for 1 hour from its first use, then never again' : 'each code works once';
  const how = p.hasBasePassword
    ? 'Type your base password first, then a code, with nothing between them (the base password is not printed here).'
    : 'Log in with your username and any unused code as the password.';
  return (
    <Page title="Print your one-time codes" viewer={p.viewer} path="/options/alt-logins">
      <div class="card">
        <h1>One-time codes: {p.label}</h1>
        <p class="print-only">
          Postern login for <strong>{p.username}</strong> · created {p.createdAt.toISOString().slice(0, 10)} · {use}.
        </p>
        <p class="otp-kind">
          {describeKind({ kind: 'otp', validForSeconds: p.validForSeconds, hasBasePassword: p.hasBasePassword })}. {how}
        </p>
        <div class="no-print">
          <Notice kind="warn">
            Print this page now (your browser’s Print command, Ctrl+P or ⌘P). The codes are shown only once; when you leave
            this page they cannot be shown again.
          </Notice>
          <p class="muted">Cross out each code once used.</p>
        </div>
        <ol class="otp-grid" aria-label="One-time codes">
          {p.codes.map((c) => (
            <li>
              <span class="n">{c.n}.</span>
              <span class="code">{c.code}</span>
            </li>
          ))}
        </ol>
        <div class="actions no-print">
          <a class="button" href="/options/alt-logins">
            I have printed it
          </a>
        </div>
      </div>
    </Page>
  );
}
