/**
 * A restricted web session's copies spend the same byte budget as the IMAP gateway's APPEND and COPY
 * (src/restricted/budget.ts): per session here (in memory, as the gateway keeps its own) and per login
 * per day in the database, shared with every front.
 */
import type { ImapFlow } from 'imapflow';
import type { AppContext } from '../../src/context.js';
import type { WebSession } from '../../src/auth/web-sessions.js';
import { reserveAddedBytes, SessionBudget } from '../../src/restricted/budget.js';
import type { Refusal } from '../../src/restricted/rules.js';
import { uidSet } from './actions.js';
import { inFolder } from './open-folder.js';

export function createWebBudgets() {
  const budgets = new Map<string, SessionBudget>();
  const budgetOf = (ctx: AppContext, sessionId: string) => {
    let b = budgets.get(sessionId);
    if (!b) {
      b = new SessionBudget({ sessionBytes: ctx.config.RESTRICTED_SESSION_BYTES, dailyBytes: ctx.config.RESTRICTED_DAILY_BYTES });
      budgets.set(sessionId, b);
    }
    return b;
  };
  return {
    /** Null when the copy of these messages fits the budget (then reserved), else the refusal. */
    async reserveCopy(ctx: AppContext, client: ImapFlow, session: Pick<WebSession, 'id' | 'userId' | 'loginId'>, folder: string, uids: number[]): Promise<Refusal | null> {
      let bytes = 0;
      await inFolder(client, folder, async () => {
        for await (const m of client.fetch(uidSet(uids), { uid: true, size: true }, { uid: true })) bytes += m.size ?? 0;
      });
      return reserveAddedBytes(ctx.db, { userId: session.userId, loginId: session.loginId }, budgetOf(ctx, session.id), bytes);
    },
  };
}
