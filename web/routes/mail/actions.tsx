/**
 * POST /mail/actions (the list's one form: selected UIDs + the button pressed) and POST /mail/empty-trash.
 * Every request asks the shared restricted rule first, so a forged post from a restricted session is
 * refused (403, audited) even though its page never offered the button; the restricted master's ACL at the
 * store refuses once more. Plain forms, answered with a redirect (PRG) or a confirmation page.
 */
import { Hono, type Context } from 'hono';
import type { WebEnv } from '../../env.js';
import { asMailAction, changeFlags, expunge, LIST_ACTIONS, moveToSpecial, transfer, type ListAction } from '../../mail/actions.js';
import { findSpecialFolder } from '../../mail/folders.js';
import { createWebBudgets } from '../../mail/restricted-budget.js';
import type { StorePool } from '../../mail/store-pool.js';
import { field, readForm, viewerOf, type Form } from '../../middleware/session.js';
import { folderHref } from '../../views/mail-folders.js';
import { ConfirmPage } from '../../views/mail-confirm.js';
import { folderParam, refusalFor, refuseRestricted, withStore } from './mail-context.js';

const MAX_SELECTED = 1000;

function selectedUids(form: Form): number[] {
  const raw = form.uid;
  const values = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const uids = values.slice(0, MAX_SELECTED).map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n < 2 ** 32);
  return [...new Set(uids)];
}

/** Where to go afterwards: a mail page of ours named by the form, else the folder. Never another site. */
function backTo(form: Form, folder: string, notice: string, extra: Record<string, string> = {}): string {
  const back = field(form, 'back', 500);
  const base = /^\/mail(\/[a-z-]+)*\?[^\\]*$/.test(back) && !back.startsWith('//') ? back : folderHref(folder);
  const q = new URLSearchParams({ notice, ...extra });
  return `${base}${base.includes('?') ? '&' : '?'}${q.toString()}`;
}

function confirmDelete(c: Context<WebEnv>, form: Form, folder: string, count: number, forGood: boolean) {
  const fields: Record<string, string | string[]> = { folder, action: 'delete', uid: selectedUids(form).map(String) };
  const back = field(form, 'back', 500);
  if (back) fields.back = back;
  return c.html(
    <ConfirmPage
      viewer={viewerOf(c)}
      path={c.req.path}
      title={forGood ? 'Delete for good?' : 'Move to Trash?'}
      question={forGood ? `Delete ${count} message${count === 1 ? '' : 's'} for good? This cannot be undone.` : `Move ${count} messages to Trash?`}
      action="/mail/actions"
      fields={fields}
      confirmLabel={forGood ? 'Delete for good' : 'Move to Trash'}
      cancelHref={folderHref(folder)}
    />,
  );
}

export function createActionRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();
  const budgets = createWebBudgets();

  app.post('/actions', async (c) => {
    const form = await readForm(c);
    const folder = folderParam(field(form, 'folder', 400));
    const action = field(form, 'action', 20) as ListAction;
    if (!LIST_ACTIONS.includes(action)) return c.redirect(folderHref(folder), 303);
    const trash = action === 'delete' ? await withStore(c, pool, (client) => findSpecialFolder(client, '\\Trash')) : null;
    const inTrash = trash === folder;
    const refusal = refusalFor(c, asMailAction(action, inTrash));
    if (refusal) throw await refuseRestricted(c, refusal);

    const uids = selectedUids(form);
    if (!uids.length) return c.redirect(backTo(form, folder, 'none-selected'), 303);
    const confirmed = field(form, 'confirm', 2) === '1';
    const target = folderParam(field(form, 'target', 400));

    switch (action) {
      case 'read':
      case 'unread':
      case 'flag':
      case 'unflag':
        await withStore(c, pool, (client) => changeFlags(client, folder, uids, action));
        return c.redirect(backTo(form, folder, action), 303);
      case 'archive':
        await withStore(c, pool, (client) => moveToSpecial(client, folder, uids, '\\Archive'));
        return c.redirect(`${folderHref(folder)}&notice=archived`, 303);
      case 'move':
      case 'undo':
        await withStore(c, pool, (client) => transfer(client, folder, uids, target, 'move'));
        return c.redirect(`${folderHref(action === 'undo' ? target : folder)}&notice=${action === 'undo' ? 'undone' : 'moved'}`, 303);
      case 'copy': {
        const session = viewerOf(c).session;
        const over = session.restricted ? await withStore(c, pool, (client) => budgets.reserveCopy(c.get('ctx'), client, session, folder, uids)) : null;
        if (over) throw await refuseRestricted(c, over);
        await withStore(c, pool, (client) => transfer(client, folder, uids, target, 'copy'));
        return c.redirect(backTo(form, folder, 'copied'), 303);
      }
      case 'delete': {
        if (inTrash) {
          if (!confirmed) return confirmDelete(c, form, folder, uids.length, true);
          await withStore(c, pool, (client) => expunge(client, folder, uids));
          return c.redirect(`${folderHref(folder)}&notice=deleted`, 303);
        }
        if (uids.length > 1 && !confirmed) return confirmDelete(c, form, folder, uids.length, false);
        const moved = await withStore(c, pool, (client) => moveToSpecial(client, folder, uids, '\\Trash'));
        const undo = new URLSearchParams({ notice: 'trashed', undo: moved.newUids.join(','), trash: moved.target });
        return c.redirect(`${folderHref(folder)}&${undo.toString()}`, 303);
      }
    }
  });

  app.post('/empty-trash', async (c) => {
    const refusal = refusalFor(c, { kind: 'expunge' });
    if (refusal) throw await refuseRestricted(c, refusal);
    const form = await readForm(c);
    const trash = await withStore(c, pool, (client) => findSpecialFolder(client, '\\Trash'));
    if (!trash) return c.redirect('/mail', 303);
    if (field(form, 'confirm', 2) !== '1') {
      return c.html(
        <ConfirmPage
          viewer={viewerOf(c)}
          path={c.req.path}
          title="Empty Trash?"
          question="Delete every message in Trash for good? This cannot be undone."
          action="/mail/empty-trash"
          fields={{}}
          confirmLabel="Empty Trash"
          cancelHref={folderHref(trash)}
        />,
      );
    }
    await withStore(c, pool, (client) => expunge(client, trash, 'all'));
    return c.redirect(`${folderHref(trash)}&notice=emptied`, 303);
  });

  return app;
}
