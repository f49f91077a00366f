/**
 * Manage → Business/Family (overview) and Business/Family Preferences, plus the pieces every Manage
 * screen shares: the page frame with the group's name, and the "confirm your password" notice.
 */
import type { Child } from 'hono/jsx';
import type { Group, GroupMember } from '../../src/accounts/groups.js';
import type { Viewer } from '../env.js';
import { Page } from './layout.js';
import { CsrfField, Notice } from './ui.js';

export const KIND_LABEL: Record<Group['kind'], string> = { business: 'Business', family: 'Family' };

/** "/manage/7/members": where a Manage screen of `group` lives. */
export function manageHref(group: Pick<Group, 'id'>, screen: string): string {
  return `/manage/${group.id}/${screen}`;
}

export function ManagePage(p: { title: string; viewer: Viewer; group: Group; path: string; children?: Child }) {
  return (
    <Page title={`${p.title} · ${p.group.name}`} viewer={p.viewer} path={p.path}>
      <p class="eyebrow">
        {KIND_LABEL[p.group.kind]} · {p.group.name}
      </p>
      <h1>{p.title}</h1>
      {p.children}
    </Page>
  );
}

/** Changes in Manage need the main password re-entered, as in Options; this says so before the form. */
export function StepUpNotice(p: { fresh: boolean; back: string }) {
  if (p.fresh) return null;
  return (
    <Notice kind="info">
      Changes need your main password again. <a href={`/options/confirm?next=${encodeURIComponent(p.back)}`}>Confirm your password now</a>.
    </Notice>
  );
}

function credits(n: number): string {
  return `${n} SMS credit${n === 1 ? '' : 's'}`;
}

export interface OverviewProps {
  viewer: Viewer;
  group: Group;
  members: GroupMember[];
  admins: GroupMember[];
  balance: number;
  lowBalance: number;
}

export function OverviewPage(p: OverviewProps) {
  const { group } = p;
  const low = group.allowSms && p.balance < p.lowBalance;
  return (
    <ManagePage title="Business/Family" viewer={p.viewer} group={group} path={manageHref(group, 'overview')}>
      {low ? (
        <Notice kind="warn">
          {p.balance === 0 ? 'No SMS credits are left' : `Only ${credits(p.balance)} left`}: members’ SMS login codes will soon be paid from
          their own credits, or not sent at all. <a href={manageHref(group, 'buy')}>Buy SMS Credits</a>.
        </Notice>
      ) : null}
      <div class="stats">
        <div class="stat">
          <span class="stat-label">Name</span>
          <span class="stat-value">{group.name}</span>
        </div>
        <div class="stat">
          <span class="stat-label">Kind</span>
          <span class="stat-value">{KIND_LABEL[group.kind]}</span>
        </div>
        <div class="stat">
          <span class="stat-label">Members</span>
          <span class="stat-value" id="member-count">
            {p.members.length}
          </span>
        </div>
        {group.allowSms ? (
          <div class={`stat${low ? ' stat-low' : ''}`}>
            <span class="stat-label">SMS credit balance</span>
            <span class="stat-value" id="sms-balance">
              {p.balance}
            </span>
          </div>
        ) : null}
      </div>

      <div class="card">
        <h2>SMS two-factor logins</h2>
        {group.allowSms ? (
          <>
            <p>
              Allowed: members’ SMS login codes are paid from these credits, one credit per code.
            </p>
            <div class="actions">
              <a class="button" href={manageHref(group, 'buy')}>
                Buy SMS Credits
              </a>
              <a class="button secondary" href={manageHref(group, 'history')}>
                SMS credit history
              </a>
            </div>
          </>
        ) : (
          <>
            <p>Not allowed: members who use SMS logins pay for their codes from their own SMS credits.</p>
            <div class="actions">
              <a class="button secondary" href={manageHref(group, 'preferences')}>
                Business/Family Preferences
              </a>
            </div>
          </>
        )}
      </div>

      <div class="card">
        <h2>Administrators</h2>
        <ul class="plain" id="admin-list">
          {p.admins.map((m) => (
            <li>{m.username}</li>
          ))}
        </ul>
        <h2>Members</h2>
        <ul class="plain" id="member-list">
          {p.members.map((m) => (
            <li>
              {m.username} {m.isAdmin ? <span class="tag">administrator</span> : null}
            </li>
          ))}
        </ul>
        <div class="actions">
          <a class="button secondary" href={manageHref(group, 'members')}>
            Manage members
          </a>
        </div>
      </div>
    </ManagePage>
  );
}

export function PreferencesPage(p: { viewer: Viewer; group: Group; stepUpFresh: boolean; ok?: string | null }) {
  const { group } = p;
  const path = manageHref(group, 'preferences');
  return (
    <ManagePage title="Business/Family Preferences" viewer={p.viewer} group={group} path={path}>
      <StepUpNotice fresh={p.stepUpFresh} back={path} />
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      <form method="post" action={path} class="card">
        <CsrfField token={p.viewer.session.csrfToken} />
        <input type="hidden" name="present" value="1" />
        <div class="checks">
          <label>
            <input type="checkbox" name="allow_sms" value="1" checked={group.allowSms} />
            Allow SMS two-factor logins
          </label>
        </div>
        <p class="hint">
          When ticked, members’ SMS login codes are paid from the {KIND_LABEL[group.kind].toLowerCase()}’s SMS credits. When not ticked,
          members pay for their own codes; turning it off takes effect at once.
        </p>
        <div class="actions">
          <button type="submit" class="button">
            Save preferences
          </button>
          {group.allowSms ? (
            <a class="button secondary" href={manageHref(group, 'buy')}>
              Buy SMS Credits
            </a>
          ) : null}
        </div>
      </form>
    </ManagePage>
  );
}
