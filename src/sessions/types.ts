/** The shapes of the live-session registry (contract: /work/contracts/sessions.md). */
import type { AuthMethod } from '../auth/types.js';

export type LiveProtocol = 'imap' | 'smtp' | 'web';

/** What a front knows about a session it just opened. */
export interface LiveSessionInfo {
  protocol: LiveProtocol;
  userId: number;
  /** The alternative login that opened it; null for the main password. */
  loginId: number | null;
  loginKind: AuthMethod;
  restricted: boolean;
  clientIp: string;
  /** What the client calls itself (IMAP ID name, SMTP EHLO name, browser), when known. */
  client?: string;
  startedAt: Date;
  /**
   * When the front called `authenticate`. A revocation, a disabling or a password change that happened
   * after it but before `register` still ends the session (checked against the database on register).
   */
  authStartedAt: Date;
  /** Main-password sessions: the password version verified (AuthSuccess.passwordChangedAt). */
  passwordChangedAt?: Date;
  /** 1-hour one-time and SMS logins: the session ends when the window does. */
  validUntil?: Date;
}

/** What `register` gives back to the front. */
export interface LiveHandle {
  readonly id: string;
  /**
   * Resolves once the database confirmed the session may start (false: it was ended meanwhile, `end`
   * was called). Fronts answer the login only then, so a change that raced the login leaves no window in
   * which the session could run a command.
   */
  readonly checked: Promise<boolean>;
  /** The client did something: refreshes "last active" (written at most every few seconds). */
  touch(): void;
  /** The client named itself after login (IMAP ID, SMTP EHLO again): shown from the next flush on. */
  nameClient(client: string): void;
  /** The session ended on its own (logout, disconnect): forget it without calling `end`. */
  unregister(): void;
}

/** Which sessions a change ends. */
export interface SessionSelector {
  userId: number;
  /** Absent: every session of the user; null: those opened with the main password; a number: that login's. */
  loginId?: number | null;
  /** A live-session or web-session id that stays (the browser that made the change). */
  except?: string;
  /** Only this live session (Options → Security "End"); still only if it is `userId`'s. */
  sessionId?: string;
  /**
   * A password change: the new password version. A session that verified this very version used the new
   * password and stays, though the NOTIFY may reach its instance only after it registered.
   */
  changedAt?: Date;
  /**
   * Also revoke every web session of the user but `except`, whatever login opened it (a password change
   * signs every other browser out). Without it web sessions are left to validateWebSession, which already
   * refuses those of a revoked login or a disabled user on their next request.
   */
  allWebSessions?: boolean;
}

/** One row of Options → Security. */
export interface LiveSessionSummary {
  id: string;
  protocol: LiveProtocol;
  loginId: number | null;
  loginKind: string;
  restricted: boolean;
  clientIp: string | null;
  clientName: string | null;
  startedAt: Date;
  lastActiveAt: Date;
}
