/** Manage → Buy SMS Credits (packs, receipt) and SMS credit history (ledger, usage chart). */
import type { Group, GroupMember } from '../../src/accounts/groups.js';
import type { LedgerKind, LedgerRow } from '../../src/credits/ledger.js';
import type { OrderReceipt } from '../../src/credits/order-receipt.js';
import type { CreditPack } from '../../src/credits/purchases.js';
import type { Viewer } from '../env.js';
import { ManagePage, StepUpNotice, manageHref } from './manage-views.js';
import { UsageChart, type UsagePoint } from './usage-chart.js';
import { CsrfField, Notice, Time } from './ui.js';

export function formatMoney(cents: number, currency: string): string {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(cents / 100);
}

export function BuyPage(p: {
  viewer: Viewer;
  group: Group;
  packs: CreditPack[];
  balance: number;
  idempotencyKey: string;
  stepUpFresh: boolean;
  error?: string | null;
}) {
  const { group } = p;
  const path = manageHref(group, 'buy');
  if (!group.allowSms) {
    return (
      <ManagePage title="Buy SMS Credits" viewer={p.viewer} group={group} path={path}>
        <Notice kind="info">
          SMS two-factor logins are not allowed for {group.name}. Tick <strong>Allow SMS two-factor logins</strong> in{' '}
          <a href={manageHref(group, 'preferences')}>Business/Family Preferences</a> first.
        </Notice>
      </ManagePage>
    );
  }
  return (
    <ManagePage title="Buy SMS Credits" viewer={p.viewer} group={group} path={path}>
      <p class="muted">
        One credit pays for one SMS login code sent to a member. Current balance: <strong id="sms-balance">{p.balance}</strong>.
      </p>
      <StepUpNotice fresh={p.stepUpFresh} back={path} />
      {p.error ? <Notice kind="error">{p.error}</Notice> : null}
      <form method="post" action={path} class="card">
        <CsrfField token={p.viewer.session.csrfToken} />
        {/* One key per drawn form: sending it twice (double click, reload) buys once. */}
        <input type="hidden" name="idempotency_key" value={p.idempotencyKey} />
        <fieldset class="packs">
          <legend>Choose a pack</legend>
          {p.packs.map((pack, i) => (
            <label class="pack">
              <input type="radio" name="credits" value={String(pack.credits)} checked={i === 0} required />
              <span class="pack-credits">{pack.credits} SMS credits</span>
              <span class="pack-price">{formatMoney(pack.amountCents, pack.currency)}</span>
            </label>
          ))}
        </fieldset>
        <p class="hint">Paid by invoice: the credits are added at once and billed to {group.name}.</p>
        <div class="actions">
          <button type="submit" class="button">
            Buy
          </button>
        </div>
      </form>
    </ManagePage>
  );
}

export function ReceiptPage(p: { viewer: Viewer; group: Group; receipt: OrderReceipt; repeated: boolean }) {
  const { group, receipt } = p;
  const paid = receipt.order.status === 'paid';
  return (
    <ManagePage title="Buy SMS Credits" viewer={p.viewer} group={group} path={manageHref(group, 'buy')}>
      {p.repeated ? <Notice kind="info">That form had already been sent, so nothing more was bought. This is the order it placed.</Notice> : null}
      <div class="card receipt">
        {paid ? (
          <Notice kind="ok">
            {receipt.order.credits} SMS credits were added to {group.name}.
          </Notice>
        ) : (
          <Notice kind="warn">This order is {receipt.order.status}; no credits have been added yet.</Notice>
        )}
        <dl class="facts">
          <dt>Order</dt>
          <dd>#{receipt.order.id}</dd>
          <dt>Credits</dt>
          <dd>{receipt.order.credits}</dd>
          {receipt.amountCents !== null && receipt.currency ? (
            <>
              <dt>Price</dt>
              <dd>{formatMoney(receipt.amountCents, receipt.currency)} (invoice)</dd>
            </>
          ) : null}
          <dt>When</dt>
          <dd>
            <Time at={receipt.order.completedAt ?? receipt.order.createdAt} />
          </dd>
          {receipt.balanceAfter !== null ? (
            <>
              <dt>New balance</dt>
              <dd id="new-balance">{receipt.balanceAfter}</dd>
            </>
          ) : null}
        </dl>
        <div class="actions">
          <a class="button" href={manageHref(group, 'overview')}>
            Back to Business/Family
          </a>
          <a class="button secondary" href={manageHref(group, 'history')}>
            SMS credit history
          </a>
        </div>
      </div>
    </ManagePage>
  );
}

export const LEDGER_KIND_LABEL: Record<LedgerKind, string> = {
  purchase: 'Purchase',
  sms_debit: 'SMS code',
  refund: 'Refund',
  adjustment: 'Adjustment',
};

export interface HistoryFilter {
  member: number | null;
  kind: LedgerKind | null;
  page: number;
}

function historyQuery(f: HistoryFilter, page: number): string {
  const q = new URLSearchParams();
  if (f.member !== null) q.set('member', String(f.member));
  if (f.kind) q.set('type', f.kind);
  if (page > 1) q.set('page', String(page));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function FilterForm(p: { action: string; members: GroupMember[]; filter: HistoryFilter; kinds: boolean }) {
  return (
    <form method="get" action={p.action} class="filters">
      <div>
        <label for="f-member">Member</label>
        <select id="f-member" name="member">
          <option value="">All members</option>
          {p.members.map((m) => (
            <option value={String(m.userId)} selected={p.filter.member === m.userId}>
              {m.username}
            </option>
          ))}
        </select>
      </div>
      {p.kinds ? (
        <div>
          <label for="f-type">Type</label>
          <select id="f-type" name="type">
            <option value="">All types</option>
            {(Object.keys(LEDGER_KIND_LABEL) as LedgerKind[]).map((k) => (
              <option value={k} selected={p.filter.kind === k}>
                {LEDGER_KIND_LABEL[k]}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <button type="submit" class="button secondary">
        Show
      </button>
    </form>
  );
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : `−${-n}`;
}

export function HistoryPage(p: {
  viewer: Viewer;
  group: Group;
  members: GroupMember[];
  entries: LedgerRow[];
  total: number;
  pageSize: number;
  filter: HistoryFilter;
  balance: number;
}) {
  const { group, filter } = p;
  const path = manageHref(group, 'history');
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  return (
    <ManagePage title="SMS credit history" viewer={p.viewer} group={group} path={path}>
      <div class="tabs">
        <a href={path} aria-current="page">
          Ledger
        </a>
        <a href={`${path}/usage${filter.member !== null ? `?member=${filter.member}` : ''}`}>Usage, last 30 days</a>
      </div>
      <p class="muted">
        Balance: <strong id="sms-balance">{p.balance}</strong> SMS credits. Every change of the balance is listed here, newest first.
      </p>
      <FilterForm action={path} members={p.members} filter={filter} kinds />
      {p.entries.length ? (
        <table id="ledger" class="stack">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Type</th>
              <th scope="col">Member</th>
              <th scope="col" class="num">
                Credits
              </th>
              <th scope="col" class="num">
                Balance
              </th>
              <th scope="col">By / note</th>
            </tr>
          </thead>
          <tbody>
            {p.entries.map((e) => (
              <tr data-kind={e.kind}>
                <td data-label="When">
                  <Time at={e.at} />
                </td>
                <td data-label="Type">{LEDGER_KIND_LABEL[e.kind]}</td>
                <td data-label="Member" class="who">
                  {e.username ?? '—'}
                </td>
                <td data-label="Credits" class={`num ${e.delta < 0 ? 'neg' : 'pos'}`}>
                  {signed(e.delta)}
                </td>
                <td data-label="Balance" class="num">
                  {e.balanceAfter}
                </td>
                <td data-label="By / note" class="muted">
                  {e.actorUsername ? `by ${e.actorUsername}` : ''}
                  {e.actorUsername && e.reason ? ' · ' : ''}
                  {e.reason ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div class="card">No entries{filter.member !== null || filter.kind ? ' match these filters' : ' yet'}.</div>
      )}
      {pages > 1 ? (
        <nav class="pager" aria-label="Pages">
          {filter.page > 1 ? (
            <a class="button secondary" href={`${path}${historyQuery(filter, filter.page - 1)}`} rel="prev">
              Newer
            </a>
          ) : null}
          <span>
            Page {filter.page} of {pages} · {p.total} entries
          </span>
          {filter.page < pages ? (
            <a class="button secondary" href={`${path}${historyQuery(filter, filter.page + 1)}`} rel="next">
              Older
            </a>
          ) : null}
        </nav>
      ) : null}
    </ManagePage>
  );
}

export function UsagePage(p: { viewer: Viewer; group: Group; members: GroupMember[]; points: UsagePoint[]; days: string[]; member: number | null }) {
  const { group } = p;
  const path = manageHref(group, 'history');
  const who = p.member !== null ? p.members.find((m) => m.userId === p.member)?.username ?? 'this member' : null;
  const totals = new Map<string, number>();
  for (const pt of p.points) totals.set(pt.username ?? `user ${pt.userId}`, (totals.get(pt.username ?? `user ${pt.userId}`) ?? 0) + pt.credits);
  return (
    <ManagePage title="SMS credit history" viewer={p.viewer} group={group} path={`${path}/usage`}>
      <div class="tabs">
        <a href={`${path}${p.member !== null ? `?member=${p.member}` : ''}`}>Ledger</a>
        <a href={`${path}/usage`} aria-current="page">
          Usage, last 30 days
        </a>
      </div>
      <FilterForm action={`${path}/usage`} members={p.members} filter={{ member: p.member, kind: null, page: 1 }} kinds={false} />
      <div class="card">
        <h2>SMS codes per member and day{who ? ` — ${who}` : ''}</h2>
        <UsageChart points={p.points} days={p.days} title={`SMS credits used per member and day, last ${p.days.length} days`} />
      </div>
      {totals.size ? (
        <table id="usage-totals">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col" class="num">
                Credits used, last {p.days.length} days
              </th>
            </tr>
          </thead>
          <tbody>
            {[...totals].sort((a, b) => b[1] - a[1]).map(([name, n]) => (
              <tr>
                <td>{name}</td>
                <td class="num">{n}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </ManagePage>
  );
}
