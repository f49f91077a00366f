/**
 * Options → Security: recent logins from the audit log, and the live sessions with "sign out" per session
 * and "sign out everywhere else". Signing out needs no step-up: it can only take access away.
 */
import { Hono } from 'hono';
import { listAuditEvents, type AuditEvent } from '../../../src/audit.js';
import { listActiveWebSessions, revokeOtherWebSessions, revokeWebSession, type ActiveSessionSummary } from '../../../src/auth/web-sessions.js';
import { audit } from '../../../src/audit.js';
import type { AuthMethod } from '../../../src/auth/types.js';
import type { Viewer, WebEnv } from '../../env.js';
import { viewerOf } from '../../middleware/session.js';
import { Page } from '../../views/layout.js';
import { Notice, PostButton, Time } from '../../views/ui.js';

const METHOD_NAMES: Record<AuthMethod, string> = {
  main: 'Main password',
  password: 'Alternate password',
  otp: 'One-time code',
  sms: 'SMS password + code',
  app: 'App password',
  totp: 'Password + authenticator app',
};

function methodName(m: unknown): string {
  return typeof m === 'string' && m in METHOD_NAMES ? METHOD_NAMES[m as AuthMethod] : '—';
}

/** "Firefox on Linux"-ish without a parser: enough to recognise one's own devices. */
function browserName(ua: string | null): string {
  if (!ua) return 'Unknown browser';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

function SecurityPage(p: { viewer: Viewer; logins: AuditEvent[]; sessions: ActiveSessionSummary[]; ok?: string | null }) {
  const me = p.viewer.session;
  return (
    <Page title="Security" viewer={p.viewer} path="/options/security">
      <h1>Security</h1>
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      <h2>Active sessions</h2>
      <table>
        <thead>
          <tr>
            <th>Browser</th>
            <th>IP address</th>
            <th>Method</th>
            <th>Started</th>
            <th>Last active</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.sessions.map((s) => (
            <tr>
              <td>
                {browserName(s.userAgent)} {s.restricted ? <span class="tag warn">restricted</span> : null}
              </td>
              <td>{s.ip ?? '—'}</td>
              <td>{methodName(s.method)}</td>
              <td>
                <Time at={s.createdAt} />
              </td>
              <td>
                <Time at={s.lastSeenAt} />
              </td>
              <td>
                {s.id === me.id ? (
                  <span class="tag">this session</span>
                ) : (
                  <PostButton action={`/options/security/sessions/${s.id}/revoke`} csrf={me.csrfToken} label="Sign out" variant="danger" />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.sessions.length > 1 ? (
        <div class="actions">
          <PostButton action="/options/security/sessions/revoke-others" csrf={me.csrfToken} label="Sign out everywhere else" variant="danger" />
        </div>
      ) : null}

      <h2>Recent logins</h2>
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>IP address</th>
            <th>Method</th>
            <th>Service</th>
            <th>Restricted</th>
            <th>Result</th>
          </tr>
        </thead>
        <tbody>
          {p.logins.map((e) => (
            <tr>
              <td>
                <Time at={e.at} />
              </td>
              <td>{e.ip ?? '—'}</td>
              <td>{methodName(e.details.method)}</td>
              <td>{e.service ?? '—'}</td>
              <td>{e.details.restricted === true ? 'yes' : e.event === 'login.succeeded' ? 'no' : '—'}</td>
              <td>{e.event === 'login.succeeded' ? 'Succeeded' : <span class="tag warn">Failed</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

export function createSecurityRoutes() {
  const app = new Hono<WebEnv>();

  app.get('/', async (c) => {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const [logins, sessions] = await Promise.all([
      listAuditEvents(ctx.db, { userId: viewer.session.userId, events: ['login.succeeded', 'login.failed'], limit: 25 }),
      listActiveWebSessions(ctx, viewer.session.userId),
    ]);
    const n = Number(c.req.query('ended'));
    const ok = Number.isInteger(n) && n >= 0 && c.req.query('ended') !== undefined ? `${n} other session${n === 1 ? '' : 's'} signed out.` : null;
    return c.html(<SecurityPage viewer={viewer} logins={logins} sessions={sessions} ok={ok} />);
  });

  app.post('/sessions/revoke-others', async (c) => {
    const ctx = c.get('ctx');
    const s = viewerOf(c).session;
    const n = await revokeOtherWebSessions(ctx, s.userId, s.id);
    await audit(ctx.db, { event: 'session.ended', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'signed-out-elsewhere', count: n } });
    return c.redirect(`/options/security?ended=${n}`, 303);
  });

  app.post('/sessions/:id{[A-Za-z0-9_-]{16,64}}/revoke', async (c) => {
    const ctx = c.get('ctx');
    const s = viewerOf(c).session;
    const ended = await revokeWebSession(ctx, c.req.param('id'), s.userId);
    if (ended) await audit(ctx.db, { event: 'session.ended', userId: s.userId, ip: c.get('ip'), service: 'web', details: { reason: 'signed-out-by-user' } });
    return c.redirect(`/options/security?ended=${ended ? 1 : 0}`, 303);
  });

  return app;
}
