/** The login screens: username + password, and the SMS code page. */
import type { SmsChallengeStatus } from '../../src/auth/sms-challenges.js';
import { BarePage } from './layout.js';
import { Field, Notice, formatDuration, formatTime } from './ui.js';

export function LoginPage(props: { username?: string; error?: string | null; info?: string | null; status?: 'error' | 'warn' }) {
  return (
    <BarePage title="Log in">
      <h1>Log in</h1>
      <p class="muted">Use your password, a one-time code from your printed list, or your SMS or authenticator-app password.</p>
      {props.info ? <Notice kind="info">{props.info}</Notice> : null}
      {props.error ? <Notice kind={props.status ?? 'error'}>{props.error}</Notice> : null}
      <form method="post" action="/login">
        {/* autocomplete off: on a kiosk the browser must not offer to remember anything. */}
        <Field label="Username" name="username" value={props.username} autocomplete="off" required autofocus={!props.username} maxlength={64} />
        <Field label="Password or code" name="password" type="password" autocomplete="off" required autofocus={Boolean(props.username)} maxlength={1024} />
        <button type="submit" class="button">
          Log in
        </button>
      </form>
    </BarePage>
  );
}

/** "•••• ••42": only the last two digits of the number the code went to. */
export function maskedNumber(hint: string): string {
  return `•••• ••${hint.slice(-2)}`;
}

export function CodePage(props: { challenge: SmsChallengeStatus; error?: string | null; info?: string | null; note?: string | null }) {
  const ch = props.challenge;
  const canResend = ch.resendAfterSeconds <= 0;
  return (
    <BarePage title="Enter your code">
      <h1>Enter the code we sent</h1>
      <p>
        A code was sent by SMS to <span class="masked">{maskedNumber(ch.sentToHint)}</span>.
      </p>
      <p class="muted">
        It expires in {formatDuration(ch.secondsLeft)} (at {formatTime(ch.expiresAt)}). {ch.attemptsLeft} tr{ch.attemptsLeft === 1 ? 'y' : 'ies'} left.
      </p>
      {props.info ? <Notice kind="ok">{props.info}</Notice> : null}
      {props.note ? <Notice kind="info">{props.note}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form method="post" action="/login/code">
        <Field
          label="Code"
          name="code"
          inputmode="numeric"
          autocomplete="one-time-code"
          class="code-input"
          required
          autofocus
          maxlength={12}
          pattern="[0-9 ]*"
        />
        <button type="submit" class="button">
          Log in
        </button>
      </form>
      <form method="post" action="/login/code/resend" class="no-print">
        <button type="submit" class="button secondary" disabled={!canResend}>
          Send a new code
        </button>
        {!canResend ? (
          <p class="muted">You can request a new code in {formatDuration(ch.resendAfterSeconds)}. Reload this page then.</p>
        ) : null}
      </form>
      <p>
        <a href="/login?cancel=1">Cancel and start again</a>
      </p>
    </BarePage>
  );
}
