/**
 * The text of every NO a login can end in, in one place (the success line, with its capabilities, is
 * written by login.ts; malformed SASL input is a BAD refusal in pre-auth.ts, counted like any other).
 * Codes from RFC 5530: AUTHENTICATIONFAILED makes mail clients ask for the password again, UNAVAILABLE tells them to retry later, ALERT makes them show
 * the text to the person (RFC 9051 §7.1), which the SMS instructions need.
 */
import type { AuthFailure } from '../../src/auth/types.js';

/** SMS failures that clear by waiting: the client should retry rather than ask for a password. */
const TEMPORARY_SMS_CODES = new Set(['SMS_PROVIDER_DOWN', 'SMS_COOLDOWN', 'SMS_RATE_LIMITED']);

/** Response text is one line of printable characters: a message with CR or LF would inject a response. */
export function safeText(text: string): string {
  return text.replace(/[\p{Cc}]+/gu, ' ').trim();
}

export const loginReplies = {
  failed: 'NO [AUTHENTICATIONFAILED] Authentication failed',
  privacyRequired: 'NO [PRIVACYREQUIRED] Use STARTTLS (or the IMAPS port) before logging in',
  authzidRefused: 'NO [AUTHORIZATIONFAILED] Logging in as another user is not allowed',
  unsupportedMechanism: 'NO [CANNOT] Only AUTHENTICATE PLAIN and LOGIN are supported',
  upstreamDown: 'NO [UNAVAILABLE] The mail store is not reachable; try again later',
  authUnavailable: 'NO [UNAVAILABLE] Authentication is temporarily unavailable; try again later',
  /** The verification queue is full (src/auth/verify-queue.ts): nothing was checked. */
  busy: 'NO [UNAVAILABLE] Too many logins are being checked right now; try again in a moment',
  tooManyAttempts: '* BYE Too many login attempts on this connection',
} as const;

/** The tagged answer (without the tag) for a failed `authenticate`. */
export function replyForAuthFailure(result: AuthFailure): string {
  switch (result.reason) {
    case 'throttled':
      // Same code as a wrong password (clients handle it), with a hint a person can act on.
      return `${loginReplies.failed} (too many attempts; try again in ${Math.max(1, Math.ceil(result.retryAfterSeconds))} seconds)`;
    case 'busy':
      return loginReplies.busy;
    case 'sms-required':
      return `NO [ALERT] A login code was sent by SMS to •••• ••${safeText(result.sentToHint)}. Log in again with your SMS password immediately followed by the code (no space)`;
    case 'sms-unavailable': {
      const temporary = TEMPORARY_SMS_CODES.has(result.code) || result.retryAfterSeconds !== undefined;
      return `NO [${temporary ? 'UNAVAILABLE' : 'ALERT'}] ${safeText(result.message)}`;
    }
    default:
      return loginReplies.failed;
  }
}
