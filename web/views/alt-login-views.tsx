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
};

export interface AltLoginsPageProps {
  viewer: Viewer;
  logins: AltLoginSummary[];
  /** Highest login id at render time: a resubmitted form (reload) is detected and not run twice. */
  after: number;
  stepUpFresh: boolean;
  mobileHint: string | null;
  /** Who pays for SMS codes (the group or the member), never the group's balance or ledger. */
  smsPayment?: SmsPaymentSummary;
  error?: string | null;
  ok?: string | null;
}

function Services(props: { name: string; checked: string[] }) {
  return (
    <fieldset class="checks">
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

function RestrictedBox() {
  return (
    <div class="checks">
      <label>
        <input type="checkbox" name="restricted" value="1" />
        Restricted — sessions made with it can never delete mail or change settings
      </label>
    </div>
  );
}

/** A password the person chooses (SMS or alternate): typed twice, for every service by default. */
function ChosenSecretFields(props: { name: string }) {
  return (
    <>
      <Field label="Label" name="label" value={props.name} maxlength={80} />
      <Field label={props.name} name="secret" type="password" autocomplete="new-password" hint="At least 8 characters, different from your main password." />
      <Field label="Repeat it" name="confirm" type="password" autocomplete="new-password" />
      <Services name="services" checked={['web', 'imap', 'smtp']} />
      <RestrictedBox />
    </>
  );
}

function CreateForm(props: { action: string; title: string; csrf: string; after: number; children: unknown; button: string }) {
  return (
    <div class="card">
      <h2>{props.title}</h2>
      <form method="post" action={props.action}>
        <CsrfField token={props.csrf} />
        <input type="hidden" name="after" value={String(props.after)} />
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
        <table>
          <thead>
            <tr>
              <th>Kind</th>
              <th>Label</th>
              <th>Restricted</th>
              <th>Services</th>
              <th>Last used</th>
              <th>Codes left</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {p.logins.map((l) => (
              <tr>
                <td>{KIND_NAMES[l.kind]}</td>
                <td>{l.label}</td>
                <td>{l.restricted ? <span class="tag warn">restricted</span> : 'no'}</td>
                <td>{l.services.join(', ')}</td>
                <td>
                  <Time at={l.lastUsedAt} /> {l.useCount ? <span class="muted">({l.useCount}×)</span> : null}
                </td>
                <td>{l.kind === 'otp' ? `${l.remainingCodes} of ${l.totalCodes}` : '—'}</td>
                <td>
                  <PostButton action={`/options/alt-logins/${l.id}/revoke`} csrf={csrf} label="Revoke" variant="danger" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div class="card">You have no alternative logins yet.</div>
      )}

      <CreateForm action="/options/alt-logins/otp" title="New one-time password list" csrf={csrf} after={p.after} button="Create and print the list">
        <p class="muted">Each code works once. Print the list and keep it with you; a new list voids the old one.</p>
        <Field label="Label" name="label" value="One-time codes" maxlength={80} />
        <Field label="Number of codes" name="count" type="number" value="100" min={1} max={1000} />
        <RestrictedBox />
      </CreateForm>

      <CreateForm action="/options/alt-logins/sms" title="New SMS password" csrf={csrf} after={p.after} button="Create SMS password">
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
        <ChosenSecretFields name="SMS password" />
      </CreateForm>

      <CreateForm action="/options/alt-logins/password" title="New alternate password" csrf={csrf} after={p.after} button="Create alternate password">
        <ChosenSecretFields name="Alternate password" />
      </CreateForm>

      <CreateForm action="/options/alt-logins/app" title="New app password" csrf={csrf} after={p.after} button="Generate app password">
        <p class="muted">For a mail program. It is shown once.</p>
        <Field label="Label" name="label" value="App password" maxlength={80} />
        <Services name="services" checked={['imap', 'smtp']} />
        <RestrictedBox />
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

export function OneTimeListPrintPage(p: { viewer: Viewer; label: string; username: string; codes: OneTimeCode[]; createdAt: Date }) {
  return (
    <Page title="Print your one-time codes" viewer={p.viewer} path="/options/alt-logins">
      <div class="card">
        <h1>One-time codes: {p.label}</h1>
        <p class="print-only">
          Postern login for <strong>{p.username}</strong> · created {p.createdAt.toISOString().slice(0, 10)} · each code works once.
        </p>
        <div class="no-print">
          <Notice kind="warn">
            Print this page now (your browser’s Print command, Ctrl+P or ⌘P). The codes are shown only once; when you leave
            this page they cannot be shown again.
          </Notice>
          <p class="muted">Log in with your username and any unused code as the password. Cross out each code once used.</p>
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
