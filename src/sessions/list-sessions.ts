/** `listSessions`: a user's live sessions on every instance, for Options → Security. */
import type { AppContext } from '../context.js';
import { listSessionRows } from './session-rows.js';
import type { LiveSessionSummary } from './types.js';

/**
 * Every instance's rows (batched, so up to a second behind) merged with this instance's sessions as they
 * are now; most recently active first.
 */
export async function listSessions(ctx: Pick<AppContext, 'db' | 'liveSessions'>, userId: number): Promise<LiveSessionSummary[]> {
  const byId = new Map((await listSessionRows(ctx.db, userId)).map((r) => [r.id, r]));
  for (const s of ctx.liveSessions.localSessionsOf(userId)) {
    byId.set(s.id, {
      id: s.id,
      protocol: s.info.protocol,
      loginId: s.info.loginId,
      loginKind: s.info.loginKind,
      restricted: s.info.restricted,
      clientIp: s.info.clientIp || null,
      clientName: s.info.client ?? null,
      startedAt: s.info.startedAt,
      lastActiveAt: s.lastActiveAt,
    });
  }
  return [...byId.values()].sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
}
