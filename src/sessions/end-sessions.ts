/**
 * `endSessionsFor`: the one call that ends what a change no longer authorises — live IMAP/SMTP/webmail
 * sessions on every instance (here at once, elsewhere by NOTIFY within a second) and, for a password
 * change, every other web session (rows revoked: the browser's next request is signed out; those of a
 * revoked login or a disabled user are refused by validateWebSession already). Callers: revokeAltLogin,
 * setUserDisabled, password changes (web and CLI). Call it after the change is committed, so an instance
 * that hears the NOTIFY and checks the database sees the change.
 */
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { webSessions } from '../db/schema.js';
import { END_SESSIONS_CHANNEL, type EndMessage } from './registry.js';
import type { SessionSelector } from './types.js';

/** Ends the matching sessions everywhere; resolves to the number ended on this instance plus web sessions revoked. */
export async function endSessionsFor(ctx: Pick<AppContext, 'database' | 'db' | 'log' | 'liveSessions'>, selector: SessionSelector, reason: string): Promise<number> {
  const local = ctx.liveSessions.endMatching(selector, reason);
  const message: EndMessage = {
    origin: ctx.liveSessions.instanceId,
    selector: { userId: selector.userId, loginId: selector.loginId, except: selector.except, sessionId: selector.sessionId, changedAt: selector.changedAt },
    reason,
  };
  try {
    await ctx.database.notify(END_SESSIONS_CHANNEL, JSON.stringify(message));
  } catch (err) {
    // The change itself is committed; other instances' re-check ends their sessions within 30 s.
    ctx.log.error({ err, code: 'END_SESSIONS_NOTIFY_FAILED', userId: selector.userId }, 'could not tell other instances to end sessions');
  }
  if (!selector.allWebSessions) return local;
  const web = await ctx.db
    .update(webSessions)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(webSessions.userId, selector.userId),
        isNull(webSessions.revokedAt),
        selector.except !== undefined ? ne(webSessions.id, selector.except) : undefined,
      ),
    )
    .returning({ id: webSessions.id });
  return local + web.length;
}
