/**
 * GET /mail/message?folder=…&uid=…[&images=1]: one message, marked read on opening. The HTML body is not
 * in this page: it is the sandboxed frame's own document (message-parts.ts), so this page's CSP only adds
 * `frame-src 'self'` to the app's policy.
 */
import { Hono } from 'hono';
import type { WebEnv } from '../../env.js';
import { findSpecialFolder, listFolders } from '../../mail/folders.js';
import { leaveUrl } from '../../mail/leave-link.js';
import { openMessage } from '../../mail/message-read.js';
import type { StorePool } from '../../mail/store-pool.js';
import { linkifyText } from '../../mail/text-links.js';
import { viewerOf } from '../../middleware/session.js';
import { MessageView } from '../../views/mail-message.js';
import { MailPage, NOTICES } from '../../views/mail-page.js';
import { folderParam, positiveInt, refusalFor, withStore } from './mail-context.js';
import { cleanMessageHtml } from './message-parts.js';

export const MESSAGE_PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; frame-src 'self'";

export function createMessageRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();
  app.get('/message', async (c) => {
    const viewer = viewerOf(c);
    const ctx = c.get('ctx');
    const folder = folderParam(c.req.query('folder'));
    const uid = positiveInt(c.req.query('uid'), 0);
    const showImages = c.req.query('images') === '1';
    const { folders, m, trash } = await withStore(c, pool, async (client) => {
      const m = await openMessage(client, folder, uid, { markSeen: true });
      return { m, folders: await listFolders(client), trash: await findSpecialFolder(client, '\\Trash') };
    });
    const leave = (href: string) => leaveUrl(ctx.secretKey, href);
    const textHtml = m.html === null && m.text !== null ? linkifyText(m.text, leave) : null;
    const blockedImages = m.html !== null ? cleanMessageHtml(m.html, new Map(), false, leave).blockedImages : 0;
    const canDelete = !refusalFor(c, { kind: 'expunge' });
    const canMove = !refusalFor(c, { kind: 'move-out' });
    c.header('Content-Security-Policy', MESSAGE_PAGE_CSP);
    return c.html(
      <MailPage title={m.message.envelope?.subject || '(no subject)'} viewer={viewer} path={c.req.path} folders={folders} current={folder} notice={NOTICES[c.req.query('notice') ?? ''] ?? null}>
        <MessageView
          m={m}
          textHtml={textHtml}
          blockedImages={blockedImages}
          showImages={showImages}
          csrf={viewer.session.csrfToken}
          actions={{ canDelete, canMove, targets: folders.filter((f) => f.selectable && f.path !== folder).map((f) => f.path) }}
          inTrash={trash === folder}
        />
      </MailPage>,
    );
  });
  return app;
}
