/**
 * POST /mail/actions (the list's one form: selected UIDs + the button pressed) and POST /mail/empty-trash.
 * Every request asks the shared restricted rule first, so a forged post from a restricted session is
 * refused (403, audited) even though its page never offered the button; the restricted master's ACL at the
 * store refuses once more. Plain forms, answered with a redirect (PRG) or a confirmation page.
 */
import { Hono, type Context } from 'hono';
import type { WebEnv } from '../../env.js';
import { asMailAction, changeFlags, expunge, LIST_ACTIONS, moveToSpecial, transfer, type ListAction } from '../../mail/actions.js';
import { ensureSpecialFolder, findSpecialFolder } from '../../mail/folders.js';
import { createWebBudgets } from '../../mail/restricted-budget.js';
import type { StorePool } from '../../mail/store-pool.js';
import { field, readForm, viewerOf, type Form } from '../../middleware/session.js';
import { folderHref } from '../../views/mail-folders.js';
import { ConfirmPage } from '../../views/mail-confirm.js';
import { folderParam, refusalFor, refuseRestricted, withStore } from './mail-context.js';

const MAX_SELECTED = 1000;

/** Search results across folders name each message as "UID:folder" (a folder may hold a colon, a UID not). */
function selectedByFolder(form: Form): Map<string, number[]> {
  const raw = form.msg;
  const values = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const out = new Map<string, number[]>();
  for (const v of values.slice(0, MAX_SELECTED)) {
    const colon = v.indexOf(':');
    const uid = Number(v.slice(0, colon));
    if (colon < 1 || !Number.isInteger(uid) || uid < 1 || uid >= 2 ** 32) continue;
    const folder = folderParam(v.slice(colon + 1));
    const list = out.get(folder) ?? [];
    if (!list.includes(uid)) list.push(uid);
    out.set(folder, list);
  }
  return out;
}

function selectedUids(form: Form): number[] {
  const raw = form.uid;
  const values = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const uids = values.slice(0, MAX_SELECTED).map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n < 2 ** 32);
  return [...new Set(uids)];
}

/** Where to go afterwards: a mail page of ours named by the form, else the folder. Never another site. */
function backBase(form: Form, folder: string): string {
  const back = field(form, 'back', 500);
  return /^\/mail(\/[a-z-]+)*\?[^\\]*$/.test(back) && !back.startsWith('//') ? back : folderHref(folder);
}

function backTo(form: Form, folder: string, notice: string, extra: Record<string, string> = {}): string {
  const base = backBase(form, folder);
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

  /**
   * The same actions on messages from several folders (search in all folders): each folder's messages are
   * one store command, and every folder's action is asked of the restricted rule before any is done, so a
   * forged post changes nothing. Undo is offered only in one folder's list.
   */
  async function actOnSeveralFolders(c: Context<WebEnv>, form: Form) {
    const action = field(form, 'action', 20) as ListAction;
    const back = field(form, 'back', 500);
    if (!LIST_ACTIONS.includes(action) || action === 'undo') return c.redirect(backTo(form, 'INBOX', 'none-selected'), 303);
    const trash = action === 'delete' ? await withStore(c, pool, (client) => findSpecialFolder(client, '\\Trash')) : null;
    const selected = selectedByFolder(form);
    // Refused if the session may not do it to any of the folders (an empty selection is asked as INBOX's).
    for (const folder of selected.size ? selected.keys() : ['INBOX']) {
      const refusal = refusalFor(c, asMailAction(action, folder === trash));
      if (refusal) throw await refuseRestricted(c, refusal);
    }
    if (!selected.size) return c.redirect(backTo(form, 'INBOX', 'none-selected'), 303);
    const count = [...selected.values()].reduce((n, u) => n + u.length, 0);
    const target = folderParam(field(form, 'target', 400));
    const each = async (fn: (folder: string, uids: number[]) => Promise<unknown>) => {
      for (const [folder, uids] of selected) await fn(folder, uids);
    };
    switch (action) {
      case 'read':
      case 'unread':
      case 'flag':
      case 'unflag':
        await withStore(c, pool, (client) => each((folder, uids) => changeFlags(client, folder, uids, action)));
        return c.redirect(backTo(form, 'INBOX', action), 303);
      case 'archive':
      case 'move':
        await withStore(c, pool, async (client) => {
          const dest = action === 'archive' ? await ensureSpecialFolder(client, '\\Archive') : target;
          await each((folder, uids) => (folder === dest ? Promise.resolve() : transfer(client, folder, uids, dest, 'move')));
        });
        return c.redirect(backTo(form, 'INBOX', action === 'archive' ? 'archived' : 'moved'), 303);
      case 'copy': {
        const session = viewerOf(c).session;
        for (const [folder, uids] of selected) {
          const over = session.restricted ? await withStore(c, pool, (client) => budgets.reserveCopy(c.get('ctx'), client, session, folder, uids)) : null;
          if (over) throw await refuseRestricted(c, over);
          await withStore(c, pool, (client) => transfer(client, folder, uids, target, 'copy'));
        }
        return c.redirect(backTo(form, 'INBOX', 'copied'), 303);
      }
      case 'delete': {
        const forGood = trash !== null && selected.has(trash);
        if (field(form, 'confirm', 2) !== '1' && (count > 1 || forGood)) {
          const fields: Record<string, string | string[]> = { scope: 'all', action: 'delete', msg: [...selected].flatMap(([f, uids]) => uids.map((u) => `${u}:${f}`)) };
          if (back) fields.back = back;
          const question = forGood
            ? `Delete ${count} message${count === 1 ? '' : 's'}? Those in Trash are deleted for good; this cannot be undone. The others go to Trash.`
            : `Move ${count} messages to Trash?`;
          return c.html(
            <ConfirmPage viewer={viewerOf(c)} path={c.req.path} title={forGood ? 'Delete for good?' : 'Move to Trash?'} question={question} action="/mail/actions" fields={fields}
              confirmLabel={forGood ? 'Delete' : 'Move to Trash'} cancelHref={backBase(form, 'INBOX')} />,
          );
        }
        await withStore(c, pool, (client) => each((folder, uids) => (folder === trash ? expunge(client, folder, uids) : moveToSpecial(client, folder, uids, '\\Trash'))));
        return c.redirect(backTo(form, 'INBOX', forGood ? 'deleted' : 'trashed'), 303);
      }
    }
  }

  app.post('/actions', async (c) => {
    const form = await readForm(c);
    if (field(form, 'scope', 3) === 'all') return actOnSeveralFolders(c, form);
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
