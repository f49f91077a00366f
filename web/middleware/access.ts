/**
 * Who may do what, in one place, so the sidebar and the route guards cannot disagree.
 */
import type { WebSession } from '../../src/auth/web-sessions.js';

/**
 * Options and Manage: only sessions made with the main password and not restricted. An alternate login
 * (even an unrestricted one) must not be able to create more logins or lift restrictions: whoever
 * learned it would otherwise own the account.
 */
export function canUseOptions(s: Pick<WebSession, 'method' | 'restricted'>): boolean {
  return s.method === 'main' && !s.restricted;
}

/** Deleting mail: any unrestricted session. */
export function canDeleteMail(s: Pick<WebSession, 'restricted'>): boolean {
  return !s.restricted;
}
