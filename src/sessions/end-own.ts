/**
 * A user ending their own sessions (Options → Security): one live IMAP/SMTP connection on whichever
 * instance holds it, one web session, or every session but the browser asking. Only ever the user's own:
 * every query and selector is keyed by `userId`, so an id of someone else's session ends nothing.
 */
import type { AppContext } from '../context.js';
import { revokeOtherWebSessions, revokeWebSession } from '../auth/web-sessions.js';
import { endSessionsFor } from './end-sessions.js';
import { listSessions } from './list-sessions.js';
import { END_REASONS } from './validity.js';

type Ctx = Pick<AppContext, 'database' | 'db' | 'log' | 'liveSessions'>;

/** Ends one of the user's live IMAP/SMTP sessions; false when it is not (or no longer) theirs and live. */
export async function endOwnLiveSession(ctx: Ctx, userId: number, liveSessionId: string): Promise<boolean> {
  const mine = (await listSessions(ctx, userId)).some((s) => s.id === liveSessionId);
  if (!mine) return false;
  await endSessionsFor(ctx, { userId, sessionId: liveSessionId }, END_REASONS.byUser);
  return true;
}

/** Signs one of the user's browsers out (its next request goes to the login page). */
export function endOwnWebSession(ctx: Ctx, userId: number, webSessionId: string): Promise<boolean> {
  return revokeWebSession(ctx, webSessionId, userId);
}

/** "End all other sessions": every web session but `keepWebSessionId` and every live connection. Returns how many. */
export async function endOtherOwnSessions(ctx: Ctx, userId: number, keepWebSessionId: string): Promise<number> {
  const live = (await listSessions(ctx, userId)).filter((s) => s.protocol !== 'web').length;
  const web = await revokeOtherWebSessions(ctx, userId, keepWebSessionId);
  // Web sessions are rows (revoked above), not registry entries: the registry holds IMAP and SMTP only.
  await endSessionsFor(ctx, { userId }, END_REASONS.byUser);
  return web + live;
}
