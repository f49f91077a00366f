/**
 * Options → Security: recent logins from the audit log, and the user's live sessions on every instance —
 * browsers (web-session rows) and IMAP/SMTP connections (live-session registry) — with "End" per session
 * and "End all other sessions". Ending needs no step-up: it can only take access away, and the page is
 * open to every session of the user (restricted ones and alternate logins too), so the shoulder-surfed
 * kiosk user can at least see what is connected. Restricted sessions cannot end anything (403, audited).
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { listAltLogins } from '../../../src/accounts/alt-logins.js';
import { audit, listAuditEvents, type AuditEvent } from '../../../src/audit.js';
import { listActiveWebSessions, type ActiveSessionSummary } from '../../../src/auth/web-sessions.js';
import { restrictedRefusal } from '../../../src/restricted/rules.js';
import { endOtherOwnSessions, endOwnLiveSession, endOwnWebSession, listSessions, type LiveSessionSummary } from '../../../src/sessions/index.js';
import { refuse } from '../../refusal.js';
import type { AuthMethod } from '../../../src/auth/types.js';
import type { Viewer, WebEnv } from '../../env.js';
import { Page } from '../../views/layout.js';
import { CsrfField, Notice, PostButton, Time } from '../../views/ui.js';
import { canUseOptions } from '../../middleware/access.js';
import { readForm, requireStepUp, viewerOf } from '../../middleware/session.js';
import { METHOD_NAMES, NOTICE_KINDS, NOTICE_KIND_NAMES, noticeKindsOf, setNoticeKinds, verifiedDefaultAddress, type NoticeKind } from '../../../src/notices/index.js';
import { shortUserAgent } from '../../user-agent.js';

function methodName(m: unknown): string {
  return typeof m === 'string' && m in METHOD_NAMES ? METHOD_NAMES[m as AuthMethod] : '—';
}

function browserName(ua: string | null): string {
  return shortUserAgent(ua) ?? 'Unknown browser';
}

/** One row of "Live sessions": a browser (web-session row) or an IMAP/SMTP connection (live registry). */
interface SessionRow {
  kind: 'web' | 'live';
  id: string;
  service: string;
  login: string;
  method: string;
  address: string;
  client: string;
  restricted: boolean;
  startedAt: Date;
  lastActiveAt: Date;
}

function loginName(loginId: number | null, labels: Map<number, string>): string {
  return loginId === null ? 'Main password' : (labels.get(loginId) ?? 'Revoked login');
}

function sessionRows(web: ActiveSessionSummary[], live: LiveSessionSummary[], labels: Map<number, string>): SessionRow[] {
  const rows: SessionRow[] = web.map((s) => ({
    kind: 'web',
    id: s.id,
    service: 'Web',
    login: loginName(s.loginId, labels),
    method: methodName(s.method),
    address: s.ip ?? '—',
    client: browserName(s.userAgent),
    restricted: s.restricted,
    startedAt: s.createdAt,
    lastActiveAt: s.lastSeenAt,
  }));
  for (const s of live) {
    if (s.protocol === 'web') continue;
    rows.push({
      kind: 'live',
      id: s.id,
      service: s.protocol.toUpperCase(),
      login: loginName(s.loginId, labels),
      method: methodName(s.loginKind),
      address: s.clientIp ?? '—',
      client: s.clientName ?? 'Unknown client',
      restricted: s.restricted,
      startedAt: s.startedAt,
      lastActiveAt: s.lastActiveAt,
    });
  }
  return rows.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
}

/** Options → Security, "Login notices": which logins mail the owner when used (src/notices/). */
function NoticeSettings(p: { viewer: Viewer; kinds: Set<NoticeKind>; address: string | null }) {
  const s = p.viewer.session;
  const mayChange = canUseOptions(s);
  return (
    <>
      <h2>Login notices</h2>
      <p>
        When one of these logins is used, Postern mails{' '}
        {p.address ? <strong>{p.address}</strong> : 'your default address'} with the time, address and program, and links to revoke the login if it was
        not you. At most one mail per login per hour; the next one lists the uses in between.
      </p>
      {p.address ? null : <Notice kind="warn">Your default personality has no verified address, so no notice can be sent. Verify one under Options → Personalities.</Notice>}
      {mayChange ? null : <Notice kind="info">{s.restricted ? NOTICE_REFUSAL.text : 'Only a session opened with your main password can change which logins notify.'}</Notice>}
      <form method="post" action="/options/security/notices">
        <CsrfField token={s.csrfToken} />
        <fieldset class="checks">
          <legend class="visually-hidden">Logins that notify</legend>
          {NOTICE_KINDS.map((k) => (
            <label>
              <input type="checkbox" name="kind" value={k} checked={p.kinds.has(k)} disabled={!mayChange} />
              {NOTICE_KIND_NAMES[k]}
            </label>
          ))}
        </fieldset>
        {mayChange ? (
          <button type="submit" class="button">
            Save login notices
          </button>
        ) : null}
      </form>
    </>
  );
}

function SecurityPage(p: { viewer: Viewer; logins: AuditEvent[]; sessions: SessionRow[]; kinds: Set<NoticeKind>; address: string | null; ok?: string | null }) {
  const me = p.viewer.session;
  const mayEnd = !me.restricted;
  const endAction = (r: SessionRow) => (r.kind === 'web' ? `/options/security/sessions/${r.id}/revoke` : `/options/security/sessions/live/${r.id}/end`);
  return (
    <Page title="Security" viewer={p.viewer} path="/options/security">
      <h1>Security</h1>
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      <h2>Live sessions</h2>
      <p>Browsers signed in to Postern and mail programs connected through it (IMAP, SMTP), on every server.</p>
      {mayEnd ? null : <Notice kind="error">{END_REFUSAL.text}</Notice>}
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Login</th>
            <th scope="col">Method</th>
            <th scope="col">Address</th>
            <th scope="col">Client</th>
            <th scope="col">Started</th>
            <th scope="col">Last active</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {p.sessions.map((r) => {
            const mine = r.kind === 'web' && r.id === me.id;
            return (
              <tr>
                <td data-label="Service">{r.service}</td>
                <td data-label="Login">
                  {r.login} {r.restricted ? <span class="tag warn">restricted</span> : null}
                </td>
                <td data-label="Method">{r.method}</td>
                <td data-label="Address">{r.address}</td>
                <td data-label="Client">
                  {r.client} {mine ? <span class="tag">this browser</span> : null}
                </td>
                <td data-label="Started">
                  <Time at={r.startedAt} />
                </td>
                <td data-label="Last active">
                  <Time at={r.lastActiveAt} />
                </td>
                <td>
                  {mine ? (
                    <span class="tag">this session</span>
                  ) : mayEnd ? (
                    <PostButton
                      action={endAction(r)}
                      csrf={me.csrfToken}
                      label="End"
                      variant="danger"
                      ariaLabel={`End ${r.service} session of ${r.login} from ${r.address} (${r.client})`}
                    />
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {mayEnd && p.sessions.length > 1 ? (
        <div class="actions">
          <PostButton action="/options/security/sessions/revoke-others" csrf={me.csrfToken} label="End all other sessions" variant="danger" />
        </div>
      ) : null}

      <NoticeSettings viewer={p.viewer} kinds={p.kinds} address={p.address} />

      <h2>Recent logins</h2>
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">IP address</th>
            <th scope="col">Method</th>
            <th scope="col">Service</th>
            <th scope="col">Restricted</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {p.logins.map((e) => (
            <tr>
              <td data-label="Time">
                <Time at={e.at} />
              </td>
              <td data-label="IP address">{e.ip ?? '—'}</td>
              <td data-label="Method">{methodName(e.details.method)}</td>
              <td data-label="Service">{e.service ?? '—'}</td>
              <td data-label="Restricted">{e.details.restricted === true ? 'yes' : e.event === 'login.succeeded' ? 'no' : '—'}</td>
              <td data-label="Result">{e.event === 'login.succeeded' ? 'Succeeded' : <span class="tag warn">Failed</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

/** Restricted sessions see the list but end nothing: the shared rule (src/restricted/rules.ts) says so. */
const END_REFUSAL = restrictedRefusal({ kind: 'end-sessions' })!;

const NOTICE_REFUSAL = restrictedRefusal({ kind: 'change-settings' })!;

/** Who may change which logins notify: see the /notices route. A forged post is 403, audited. */
async function refuseNoticeChange(c: Context<WebEnv>, next: () => Promise<void>): Promise<void> {
  const s = viewerOf(c).session;
  if (canUseOptions(s)) return next();
  if (s.restricted) {
    await refuse(c, 403, NOTICE_REFUSAL.reason as `restricted.${string}`);
    throw new HTTPException(403, { message: NOTICE_REFUSAL.reason, cause: { text: NOTICE_REFUSAL.text } });
  }
  throw await refuse(c, 403, 'alternate-login-session');
}

/**
 * Ending sessions, the rule: restricted sessions may not (a restricted session takes nothing away, and
 * a hijacker of a kiosk login must not be able to throw the owner out); every unrestricted session may,
 * including one opened with an alternate login. Such a session can already read and delete all mail, so
 * ending sessions gives it no new power over the mail, while it is exactly what an owner on a borrowed
 * device (signed in with an alternate password) needs to throw out a thief. The owner can always sign in
 * again with the main password, and a login they did not use is revoked from its notice.
 *
 * A restricted session posting anyway (a forged form): 403, audited under the rule's reason.
 */
async function refuseIfRestricted(c: Context<WebEnv>): Promise<void> {
  if (!viewerOf(c).session.restricted) return;
  await refuse(c, 403, END_REFUSAL.reason as `restricted.${string}`);
  throw new HTTPException(403, { message: END_REFUSAL.reason, cause: { text: END_REFUSAL.text } });
}

function endedNotice(value: string | undefined): string | null {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) return null;
  return `${n} other session${n === 1 ? '' : 's'} ended.`;
}

export function createSecurityRoutes() {
  const app = new Hono<WebEnv>();

  app.get('/', async (c) => {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const userId = viewer.session.userId;
    // Only the signed-in user's own sessions, whoever is looking (a group administrator sees only theirs).
    const [logins, web, live, altLogins, kinds, address] = await Promise.all([
      listAuditEvents(ctx.db, { userId, events: ['login.succeeded', 'login.failed'], limit: 25 }),
      listActiveWebSessions(ctx, userId),
      listSessions(ctx, userId),
      listAltLogins(ctx, userId, { includeRevoked: true }),
      noticeKindsOf(ctx, userId),
      verifiedDefaultAddress(ctx.db, userId),
    ]);
    const labels = new Map(altLogins.map((l) => [l.id, l.label]));
    const ok = c.req.query('notices') !== undefined ? 'Login notices saved.' : endedNotice(c.req.query('ended'));
    return c.html(<SecurityPage viewer={viewer} logins={logins} sessions={sessionRows(web, live, labels)} kinds={kinds} address={address} ok={ok} />);
  });

  // Turning notices off hides an intruder's logins from the owner, so it is a settings change like any
  // other under Options: restricted sessions never (the shared rule), alternate logins never (whoever
  // learned one could silence the mail that would give them away), and the main password re-entered
  // within 5 minutes (step-up).
  app.post('/notices', refuseNoticeChange, requireStepUp(), async (c) => {
    const ctx = c.get('ctx');
    const s = viewerOf(c).session;
    const form = await readForm(c);
    const chosen = ([] as string[]).concat(form.kind ?? []).map((k) => k.slice(0, 20));
    const on = await setNoticeKinds(ctx, s.userId, chosen);
    await audit(ctx.db, { event: 'login.notice-settings-changed', userId: s.userId, ip: c.get('ip'), service: 'web', details: { on: [...on] } });
    return c.redirect('/options/security?notices=saved', 303);
  });

  app.post('/sessions/revoke-others', async (c) => {
    await refuseIfRestricted(c);
    const ctx = c.get('ctx');
    const s = viewerOf(c).session;
    const n = await endOtherOwnSessions(ctx, s.userId, s.id);
    await audit(ctx.db, { event: 'session.ended', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'signed-out-elsewhere', count: n } });
    return c.redirect(`/options/security?ended=${n}`, 303);
  });

  app.post('/sessions/:id{[A-Za-z0-9_-]{16,64}}/revoke', async (c) => {
    await refuseIfRestricted(c);
    const ctx = c.get('ctx');
    const s = viewerOf(c).session;
    const ended = await endOwnWebSession(ctx, s.userId, c.req.param('id'));
    if (ended) await audit(ctx.db, { event: 'session.ended', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'signed-out-by-user' } });
    return c.redirect(`/options/security?ended=${ended ? 1 : 0}`, 303);
  });

  app.post('/sessions/live/:id{[A-Za-z0-9_-]{16,64}}/end', async (c) => {
    await refuseIfRestricted(c);
    const ctx = c.get('ctx');
    const s = viewerOf(c).session;
    const id = c.req.param('id');
    const ended = await endOwnLiveSession(ctx, s.userId, id);
    if (ended) await audit(ctx.db, { event: 'session.ended', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'ended-by-user', liveSessionId: id } });
    return c.redirect(`/options/security?ended=${ended ? 1 : 0}`, 303);
  });

  return app;
}
