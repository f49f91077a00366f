/**
 * Every reply the submission listener writes itself, in one place: the basic code, the enhanced status
 * code (RFC 3463) and a sentence a person can read in their mail client's error box. smtp-server's own
 * enhanced codes stay switched off because its fixed mapping would label a spoofed sender 5.1.3 and an
 * unreachable upstream 4.3.0; the codes below are the ones RFC 3463 and RFC 4954 name for those cases.
 * Refusals of a message (sender, header, limits, upstream) are src/submission/result.ts's, shared with
 * web compose.
 */
import type { AuthFailure } from '../../src/auth/types.js';

/** An error smtp-server turns into a reply: `responseCode` and the text after it. */
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReply';
  }
}

const reply = (code: number, text: string) => new SmtpReply(code, text);

export const replies = {
  authFailed: () => reply(535, '5.7.8 Authentication credentials invalid'),
  /** RFC 4954 §6: 454 4.7.0 is the temporary authentication failure. */
  throttled: (seconds: number) =>
    reply(454, `4.7.0 Too many failed attempts; try again in ${Math.max(1, Math.ceil(seconds))} seconds`),
  smsRequired: (hint: string) =>
    reply(
      535,
      `5.7.8 A login code was sent by SMS to •••• ••${hint}. Log in again with your SMS password immediately followed by the code (no space)`,
    ),
  /** SMS trouble that may clear by itself (provider down, cool-down) is temporary; the rest needs the user. */
  smsUnavailable: (message: string, temporary: boolean) =>
    temporary ? reply(454, `4.7.0 ${message}`) : reply(535, `5.7.8 ${message}`),
  tooManyAuthFailures: () => reply(421, '4.7.0 Too many failed logins; closing the connection'),
  authUnavailable: () => reply(454, '4.7.0 Authentication is temporarily unavailable; try again later'),
  /** A connection cap is reached (gateway/connection-limits.ts); smtp-server closes after a 421. */
  tooManyConnections: () => reply(421, '4.7.0 Too many connections from your address; try again later'),
  /** The verification queue is full (src/auth/verify-queue.ts): nothing was checked. */
  authBusy: () => reply(454, '4.7.0 Too many logins are being checked right now; try again in a moment'),
  authRequired: () => reply(530, '5.7.0 Authentication required'),
  /** Not authenticated within SMTP_PRE_LOGIN_DEADLINE_SECONDS of connecting; the connection closes. */
  preLoginDeadline: (seconds: number) => reply(421, `4.4.2 Not logged in within ${seconds} seconds; closing the connection`),
  authzidRefused: () => reply(535, '5.7.8 Authentication credentials invalid'),
  internal: () => reply(451, '4.3.0 Local error while sending; try again later'),
} as const;

/** SMS failures that tend to clear by waiting, so mail clients should retry rather than ask for a password. */
const temporarySmsCodes = new Set(['SMS_PROVIDER_DOWN', 'SMS_COOLDOWN', 'SMS_RATE_LIMITED']);

/** Maps a failed `authenticate` to the reply the client sees. Unknown reasons fall back to the generic one. */
export function replyForAuthFailure(result: AuthFailure): SmtpReply {
  switch (result.reason) {
    case 'throttled':
      return replies.throttled(result.retryAfterSeconds);
    case 'busy':
      return replies.authBusy();
    case 'sms-required':
      return replies.smsRequired(result.sentToHint);
    case 'sms-unavailable':
      return replies.smsUnavailable(
        result.message,
        temporarySmsCodes.has(result.code) || result.retryAfterSeconds !== undefined,
      );
    default:
      return replies.authFailed();
  }
}
