/**
 * The webmail (issue 13): folders and paged lists, reading, actions on selected messages and search, on one
 * store connection per web session (web/mail/store-pool.ts). Every page works without JavaScript; every
 * response is `Cache-Control: no-store` (set by the security headers, and by downloads themselves).
 */
import { Hono } from 'hono';
import type { WebEnv } from '../../env.js';
import { ErrorPage, onError } from '../../errors.js';
import { MessageGoneError } from '../../mail/message-read.js';
import { FolderGoneError } from '../../mail/open-folder.js';
import type { StorePool } from '../../mail/store-pool.js';
import { requireFormToken, requireSession } from '../../middleware/session.js';
import { createActionRoutes } from './actions.js';
import { createComposeRoutes } from './compose.js';
import { createFolderRoutes } from './folders.js';
import { createListRoutes } from './list.js';
import { createMessagePartRoutes } from './message-parts.js';
import { createMessageRoutes } from './message.js';
import { createSearchRoutes } from './search.js';

export function createMailRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();
  app.use('*', requireSession(), requireFormToken());
  app.onError((err, c) => {
    // Deleted by another client: back to the Inbox, saying why (unless the Inbox itself is what is gone).
    if (err instanceof FolderGoneError && err.folder !== 'INBOX') return c.redirect('/mail?notice=folder-gone', 303);
    if (err instanceof MessageGoneError) {
      return c.html(<ErrorPage status={404} text="This message no longer exists: it was deleted or moved by another program." loggedIn />, 404);
    }
    return onError(err, c);
  });
  app.route('/', createListRoutes(pool));
  app.route('/', createFolderRoutes(pool));
  app.route('/', createActionRoutes(pool));
  app.route('/', createMessageRoutes(pool));
  app.route('/', createMessagePartRoutes(pool));
  app.route('/', createSearchRoutes(pool));
  app.route('/', createComposeRoutes(pool));
  return app;
}
