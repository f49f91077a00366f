/**
 * The contract of the authentication core, shared by the web, the IMAP gateway and the SMTP listener.
 * (Implementation: src/auth/authenticate.ts.)
 */
import type { LoginKind, Service } from '../db/schema.js';
import type { ErrorCode } from '../errors.js';

/** How a session was made: the main password, or one of the alternative login kinds. */
export type AuthMethod = 'main' | LoginKind;

export interface AuthRequest {
  username: string;
  secret: string;
  service: Service;
  /** Client address, for throttling and the audit log. */
  ip: string;
  /**
   * The client, shortened, for login notices and the session list: the IMAP ID name/version in the
   * gateway, the browser from User-Agent on the web ("Chrome 131 on Linux"). Never trusted for anything.
   */
  client?: string;
  /** Web only: the 1-hour SMS window this browser opened (signed cookie), so no new SMS is sent in it. */
  smsWindowId?: number;
  /**
   * Web only: the user this browser's signed known-device cookie names (web/known-device.ts). When it is
   * the account logging in, the attempt is judged as from a known address (throttle.ts).
   */
  knownDeviceUserId?: number | null;
}

export interface AuthSuccess {
  ok: true;
  userId: number;
  username: string;
  /** Mailbox name on the upstream store (SASL authzid). */
  upstreamUser: string;
  /** The alternative login used; null for the main password. */
  loginId: number | null;
  method: AuthMethod;
  /** A restricted session can never delete or damage mail, nor change settings. */
  restricted: boolean;
  /** 1-hour one-time and SMS logins: the end of the fixed window this session was opened in. */
  validUntil?: Date;
  /**
   * Main-password logins: the password version (users.password_changed_at) that was verified, so a live
   * session can tell whether a password change came after its login (src/sessions/).
   */
  passwordChangedAt?: Date;
  /** A 1-hour SMS login's window (the challenge id), for the web to remember in this browser. */
  smsWindowId?: number;
}

export type AuthFailure =
  /** One generic failure for unknown user, wrong secret, disabled account, login not allowed for the service. */
  | { ok: false; reason: 'failed' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number }
  /** Too many logins are being verified right now (verify-queue.ts): nothing was checked; try again shortly. */
  | { ok: false; reason: 'busy' }
  /** The SMS password was right: a code went out; only password + code (or the challenge) opens a session. */
  | {
      ok: false;
      reason: 'sms-required';
      challengeId: number;
      /** Last two digits, for "•••• ••42". */
      sentToHint: string;
      expiresAt: Date;
      resendAfterSeconds: number;
    }
  /**
   * Web only: the password of an authenticator-app login was right; the app's code is asked on a second
   * page. `lastStep` binds that page to the login's state, so it cannot be replayed after a later use.
   */
  | { ok: false; reason: 'totp-required'; loginId: number; lastStep: number | null }
  /** The SMS password was right but no code could be sent; message is one sentence for the user. */
  | { ok: false; reason: 'sms-unavailable'; code: ErrorCode; message: string; retryAfterSeconds?: number };

export type AuthResult = AuthSuccess | AuthFailure;
