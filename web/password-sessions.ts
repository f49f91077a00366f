/**
 * What the web does after the main password changed (Options → Password, or chosen at first login): every
 * other browser signed in as the user is signed out — one of them may be the reason for the change — and
 * this browser gets a new token, counted as a fresh step-up since the password was just proven.
 */
import type { Context } from 'hono';
import { revokeOtherWebSessions, rotateWebSession } from '../src/auth/web-sessions.js';
import { writeSessionCookie, type CookiePolicy } from './cookies.js';
import type { WebEnv } from './env.js';
import { viewerOf } from './middleware/session.js';

/** Signs out the user's other sessions and rotates this one; returns how many others ended. */
export async function renewSessionsAfterPasswordChange(c: Context<WebEnv>, policy: CookiePolicy): Promise<number> {
  const ctx = c.get('ctx');
  const s = viewerOf(c).session;
  const ended = await revokeOtherWebSessions(ctx, s.userId, s.id);
  const { token } = await rotateWebSession(ctx, s, { ip: c.get('ip'), userAgent: c.req.header('user-agent'), reauthenticated: true });
  writeSessionCookie(c, policy, token);
  return ended;
}

/** The two new-password fields must agree; checked before anything is hashed or written. */
export function confirmationError(password: string, confirm: string): string | null {
  return password === confirm ? null : 'The two new passwords are not the same.';
}
