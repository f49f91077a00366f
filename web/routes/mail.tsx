/** Mail: the INBOX list, and (unrestricted sessions only) deleting a message. */
import { Hono } from 'hono';
import { deleteInboxMessage, listInbox } from '../mail/mailbox.js';
import type { WebEnv } from '../env.js';
import { canDeleteMail } from '../middleware/access.js';
import { field, readForm, requireFormToken, requireSession, viewerOf } from '../middleware/session.js';
import { refuse } from '../refusal.js';
import { Page } from '../views/layout.js';
import { Notice, PostButton, Time } from '../views/ui.js';

export function createMailRoutes() {
  const app = new Hono<WebEnv>();
  app.use('*', requireSession(), requireFormToken());

  app.get('/', async (c) => {
    const viewer = viewerOf(c);
    const s = viewer.session;
    const { total, messages } = await listInbox(c.get('ctx'), s);
    const deletable = canDeleteMail(s);
    const flash = c.req.query('deleted') !== undefined ? 'The message was deleted.' : null;
    return c.html(
      <Page title="Inbox" viewer={viewer} path={c.req.path}>
        <h1>Inbox</h1>
        <p class="muted">
          {total} message{total === 1 ? '' : 's'}
          {total > messages.length ? ` — showing the newest ${messages.length}` : ''}
        </p>
        {flash ? <Notice kind="ok">{flash}</Notice> : null}
        {messages.length ? (
          <table>
            <thead>
              <tr>
                <th>From</th>
                <th>Subject</th>
                <th>Date</th>
                {deletable ? <th><span class="muted">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {messages.map((m) => (
                <tr class={m.seen ? undefined : 'unseen'}>
                  <td>{m.from}</td>
                  <td>{m.subject || <span class="muted">(no subject)</span>}</td>
                  <td>
                    <Time at={m.date} />
                  </td>
                  {deletable ? (
                    <td>
                      <PostButton action="/mail/delete" csrf={s.csrfToken} label="Delete" variant="danger" fields={{ uid: m.uid }} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div class="card">Your inbox is empty.</div>
        )}
      </Page>,
    );
  });

  app.post('/delete', async (c) => {
    const s = viewerOf(c).session;
    if (!canDeleteMail(s)) throw await refuse(c, 403, 'restricted-delete');
    const uid = Number(field(await readForm(c), 'uid', 12));
    if (!Number.isInteger(uid) || uid < 1) return c.redirect('/mail', 303);
    await deleteInboxMessage(c.get('ctx'), s, uid);
    return c.redirect('/mail?deleted=1', 303);
  });

  return app;
}
