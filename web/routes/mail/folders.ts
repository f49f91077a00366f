/** POST /mail/folders: create a folder (allowed in every session: creating takes nothing away). */
import { Hono } from 'hono';
import type { WebEnv } from '../../env.js';
import { createFolder } from '../../mail/folders.js';
import type { StorePool } from '../../mail/store-pool.js';
import { field, readForm } from '../../middleware/session.js';
import { folderHref } from '../../views/mail-folders.js';
import { refusalFor, refuseRestricted, withStore } from './mail-context.js';

export function createFolderRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();
  app.post('/folders', async (c) => {
    const refusal = refusalFor(c, { kind: 'create-folder' });
    if (refusal) throw await refuseRestricted(c, refusal);
    const form = await readForm(c);
    const path = await withStore(c, pool, (client) => createFolder(client, field(form, 'parent', 400), field(form, 'name', 400)));
    return c.redirect(`${folderHref(path)}&notice=folder-created`, 303);
  });
  return app;
}
