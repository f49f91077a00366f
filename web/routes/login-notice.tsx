/**
 * The page behind a login notice's links (src/notices/answer.ts says why no session is needed). GET shows
 * what the notice is about and one button; only the POST from that page answers. The link's own signed,
 * single-use token stands in for a CSRF token (a forger does not have it), and the origin guard in front
 * of every POST still applies. A tampered, expired or used link gets one sentence saying which.
 */
import { Hono, type Context } from 'hono';
import { isPosternError } from '../../src/errors.js';
import { errorCatalogue } from '../../src/errors.js';
import { answerNotice, checkNoticeLink, METHOD_NAMES, printable, type NoticeView } from '../../src/notices/index.js';
import type { AuthMethod } from '../../src/auth/types.js';
import type { WebEnv } from '../env.js';
import { field, readForm } from '../middleware/session.js';
import { BarePage } from '../views/layout.js';
import { Notice, formatTime } from '../views/ui.js';

type Refusal = Extract<Awaited<ReturnType<typeof checkNoticeLink>>, { ok: false }>['code'];

const STATUS: Record<Refusal, 400 | 410> = { NOTICE_LINK_INVALID: 400, NOTICE_LINK_EXPIRED: 410, NOTICE_LINK_USED: 410 };

function refused(c: Context<WebEnv>, code: Refusal) {
  c.get('ctx').log.info({ code }, 'login notice link refused');
  return c.html(
    <BarePage title="Link not usable">
      <h1>This link cannot be used</h1>
      <Notice kind="error">{errorCatalogue[code]}</Notice>
      <p>
        <a href="/login">Log in to Postern</a>
      </p>
    </BarePage>,
    STATUS[code],
  );
}

function UseFacts(p: { n: NoticeView }) {
  const u = p.n.lastUse;
  return (
    <table>
      <tr>
        <th scope="row">Login</th>
        <td>{p.n.label}</td>
      </tr>
      {u ? (
        <>
          <tr>
            <th scope="row">Method</th>
            <td>{u.method in METHOD_NAMES ? METHOD_NAMES[u.method as AuthMethod] : u.method}</td>
          </tr>
          <tr>
            <th scope="row">Time</th>
            <td>{formatTime(u.at)}</td>
          </tr>
          <tr>
            <th scope="row">Client address</th>
            <td>{printable(u.ip, 'unknown')}</td>
          </tr>
          <tr>
            <th scope="row">Client</th>
            <td>{printable(u.client, 'unknown')}</td>
          </tr>
        </>
      ) : null}
      {p.n.uses > 1 ? (
        <tr>
          <th scope="row">Uses in this notice</th>
          <td>{p.n.uses}</td>
        </tr>
      ) : null}
    </table>
  );
}

export function createLoginNoticeRoutes() {
  const app = new Hono<WebEnv>();

  app.get('/login-notice', async (c) => {
    const token = (c.req.query('t') ?? '').slice(0, 400);
    const checked = await checkNoticeLink(c.get('ctx'), token);
    if (!checked.ok) return refused(c, checked.code);
    const n = checked.notice;
    const revoke = n.answer === 'revoke';
    return c.html(
      <BarePage title={revoke ? 'Revoke this login?' : 'Was this you?'}>
        <h1>{revoke ? 'Revoke this login?' : 'Confirm it was you'}</h1>
        <UseFacts n={n} />
        {n.revoked ? <Notice kind="info">This login is already revoked.</Notice> : null}
        <form method="post" action="/login-notice">
          <input type="hidden" name="t" value={token} />
          {revoke ? (
            <>
              <p>Revoking stops “{n.label}” from working anywhere and ends every session it opened (browsers, mail programs). Your mail is not touched.</p>
              <button type="submit" class="button danger">
                Revoke this login and end its sessions
              </button>
            </>
          ) : (
            <button type="submit" class="button">
              Yes, this was me
            </button>
          )}
        </form>
      </BarePage>,
    );
  });

  app.post('/login-notice', async (c) => {
    const ctx = c.get('ctx');
    const token = field(await readForm(c), 't', 400);
    let answered;
    try {
      answered = await answerNotice(ctx, token, c.get('ip'));
    } catch (err) {
      if (isPosternError(err, 'LOGIN_NOT_FOUND')) return refused(c, 'NOTICE_LINK_INVALID');
      throw err;
    }
    if (!answered.ok) return refused(c, answered.code);
    const n = answered.notice;
    return c.html(
      <BarePage title={n.answer === 'revoke' ? 'Login revoked' : 'Thank you'}>
        <h1>{n.answer === 'revoke' ? 'Login revoked' : 'Thank you'}</h1>
        {n.answer === 'revoke' ? (
          <Notice kind="ok">“{n.label}” is revoked and its sessions were ended. If someone else knew your main password too, change it now.</Notice>
        ) : (
          <Notice kind="ok">Noted: this use of “{n.label}” was you. If you change your mind, the “This wasn't me” link in the same mail still works.</Notice>
        )}
        <p>
          <a href="/login">Log in to Postern</a>
        </p>
      </BarePage>,
    );
  });

  return app;
}
