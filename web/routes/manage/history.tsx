/**
 * Manage → SMS credit history: the group's ledger, paged, filtered by member and type, and the usage
 * chart of the last 30 days. Only the group's own account is ever read: the member filter narrows
 * within it, so a user id from elsewhere shows nothing new.
 */
import { Hono } from 'hono';
import { listGroupMembers } from '../../../src/accounts/groups.js';
import { findCreditAccount } from '../../../src/credits/accounts.js';
import { listLedgerEntries, summariseSmsUsage, type LedgerKind } from '../../../src/credits/ledger.js';
import { ledgerKinds } from '../../../src/db/schema.js';
import type { WebEnv } from '../../env.js';
import { viewerOf } from '../../middleware/session.js';
import { HistoryPage, UsagePage, type HistoryFilter } from '../../views/manage-credits-views.js';
import { lastDays } from '../../views/usage-chart.js';
import { managedGroupOf } from './guard.js';

export const HISTORY_PAGE_SIZE = 25;
const USAGE_DAYS = 30;

/** A positive id from the query string, or null for anything else ("", "abc", "-1", "1e9"). */
function idParam(v: string | undefined): number | null {
  return v && /^[0-9]{1,9}$/.test(v) && Number(v) > 0 ? Number(v) : null;
}

export function createHistoryRoutes() {
  const app = new Hono<WebEnv>();

  app.get('/', async (c) => {
    const ctx = c.get('ctx');
    const group = managedGroupOf(c);
    const type = c.req.query('type');
    const filter: HistoryFilter = {
      member: idParam(c.req.query('member')),
      kind: ledgerKinds.includes(type as LedgerKind) ? (type as LedgerKind) : null,
      page: Math.min(idParam(c.req.query('page')) ?? 1, 100_000),
    };
    const [members, account] = await Promise.all([listGroupMembers(ctx, group.id), findCreditAccount(ctx.db, { groupId: group.id })]);
    const { entries, total } = account
      ? await listLedgerEntries(ctx.db, {
          accountId: account.id,
          userId: filter.member ?? undefined,
          kinds: filter.kind ? [filter.kind] : undefined,
          limit: HISTORY_PAGE_SIZE,
          offset: (filter.page - 1) * HISTORY_PAGE_SIZE,
        })
      : { entries: [], total: 0 };
    return c.html(
      <HistoryPage
        viewer={viewerOf(c)}
        group={group}
        members={members}
        entries={entries}
        total={total}
        pageSize={HISTORY_PAGE_SIZE}
        filter={filter}
        balance={account?.balance ?? 0}
      />,
    );
  });

  app.get('/usage', async (c) => {
    const ctx = c.get('ctx');
    const group = managedGroupOf(c);
    const member = idParam(c.req.query('member'));
    const [members, account] = await Promise.all([listGroupMembers(ctx, group.id), findCreditAccount(ctx.db, { groupId: group.id })]);
    const all = account ? await summariseSmsUsage(ctx.db, account.id, USAGE_DAYS) : [];
    const points = member === null ? all : all.filter((p) => p.userId === member);
    return c.html(<UsagePage viewer={viewerOf(c)} group={group} members={members} points={points} days={lastDays(USAGE_DAYS)} member={member} />);
  });

  return app;
}
