/** GET /mail?folder=…&page=…: the folder column and one page of the folder, newest first. */
import { Hono } from 'hono';
import type { WebEnv } from '../../env.js';
import { listFolders } from '../../mail/folders.js';
import { listPage } from '../../mail/message-list.js';
import type { StorePool } from '../../mail/store-pool.js';
import { viewerOf } from '../../middleware/session.js';
import { folderHref } from '../../views/mail-folders.js';
import { MessageTable, Pager } from '../../views/mail-list.js';
import { MailPage, NOTICES } from '../../views/mail-page.js';
import { CsrfField } from '../../views/ui.js';
import { folderParam, positiveInt, refusalFor, withStore } from './mail-context.js';

/** After a move to Trash: one button that moves the same messages back. */
function UndoTrash(props: { folder: string; uids: string | undefined; trash: string | undefined; csrf: string }) {
  const uids = (props.uids ?? '').split(',').filter((u) => /^\d{1,10}$/.test(u)).slice(0, 1000);
  if (!uids.length || !props.trash) return null;
  return (
    <form method="post" action="/mail/actions" class="inline">
      <CsrfField token={props.csrf} />
      <input type="hidden" name="folder" value={folderParam(props.trash)} />
      <input type="hidden" name="target" value={props.folder} />
      {uids.map((u) => (
        <input type="hidden" name="uid" value={u} />
      ))}
      <button type="submit" name="action" value="undo" class="button secondary">Undo</button>
    </form>
  );
}

export function createListRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();
  app.get('/', async (c) => {
    const viewer = viewerOf(c);
    const folder = folderParam(c.req.query('folder'));
    const requested = positiveInt(c.req.query('page'), 1);
    const { folders, page } = await withStore(c, pool, async (client) => {
      const folders = await listFolders(client);
      const here = folders.find((f) => f.path === folder);
      const recipient = here?.specialUse === '\\Sent' || here?.specialUse === '\\Drafts';
      return { folders, page: await listPage(client, folder, requested, recipient) };
    });
    const here = folders.find((f) => f.path === folder);
    const inTrash = here?.specialUse === '\\Trash';
    const canDelete = !refusalFor(c, { kind: 'expunge' });
    const canMove = !refusalFor(c, { kind: 'move-out' });
    const notice = NOTICES[c.req.query('notice') ?? ''] ?? null;
    const name = here?.name ?? folder;
    return c.html(
      <MailPage title={name} viewer={viewer} path={c.req.path} folders={folders} current={folder} notice={notice}>
        <h1>{name}</h1>
        <p class="muted">
          {page.total} message{page.total === 1 ? '' : 's'}
          {here?.unseen ? `, ${here.unseen} unread` : ''}
        </p>
        <UndoTrash folder={folder} uids={c.req.query('undo')} trash={c.req.query('trash')} csrf={viewer.session.csrfToken} />
        {inTrash && canDelete && page.total ? (
          <form method="post" action="/mail/empty-trash" class="inline">
            <CsrfField token={viewer.session.csrfToken} />
            <input type="hidden" name="folder" value={folder} />
            <button type="submit" class="button danger">Empty Trash…</button>
          </form>
        ) : null}
        {page.messages.length ? (
          <>
            <MessageTable
              folder={folder}
              messages={page.messages}
              csrf={viewer.session.csrfToken}
              actions={{ canDelete, canMove, targets: folders.filter((f) => f.selectable && f.path !== folder).map((f) => f.path) }}
              recipientColumn={here?.specialUse === '\\Sent' || here?.specialUse === '\\Drafts'}
              inTrash={inTrash}
            />
            <Pager page={page.page} pages={page.pages} href={(p) => folderHref(folder, p)} />
          </>
        ) : (
          <div class="card">This folder is empty.</div>
        )}
      </MailPage>,
    );
  });
  return app;
}
