/**
 * GET /mail/search (the form), POST /mail/search (keeps the terms server-side, redirects to an opaque id)
 * and GET /mail/search/results?q=ID&page=N. Searching is reading: every session may.
 */
import { Hono, type Context } from 'hono';
import type { WebEnv } from '../../env.js';
import { isPosternError } from '../../../src/errors.js';
import { listFolders } from '../../mail/folders.js';
import { createSavedSearches } from '../../mail/saved-searches.js';
import { searchResults, validateTerms, type SearchTerms } from '../../mail/search.js';
import type { StorePool } from '../../mail/store-pool.js';
import { field, readForm, viewerOf, type Form } from '../../middleware/session.js';
import { MessageTable, Pager } from '../../views/mail-list.js';
import { MailPage, NOTICES } from '../../views/mail-page.js';
import { SearchForm } from '../../views/mail-search.js';
import { positiveInt, refusalFor, withStore } from './mail-context.js';

function termsFrom(form: Form): SearchTerms {
  return {
    folder: field(form, 'folder', 400) || null,
    from: field(form, 'from', 200).trim(),
    to: field(form, 'to', 200).trim(),
    subject: field(form, 'subject', 200).trim(),
    body: field(form, 'body', 200).trim(),
    since: field(form, 'since', 10).trim(),
    before: field(form, 'before', 10).trim(),
    unread: field(form, 'unread', 1) === '1',
    flagged: field(form, 'flagged', 1) === '1',
  };
}

const resultsHref = (id: string, page = 1) => `/mail/search/results?q=${id}${page > 1 ? `&page=${page}` : ''}`;

export function createSearchRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();
  const saved = createSavedSearches();

  const formPage = async (c: Context<WebEnv>, terms: SearchTerms | null, error: string | null, status: 200 | 400 = 200) => {
    const viewer = viewerOf(c);
    const folders = await withStore(c, pool, (client) => listFolders(client));
    return c.html(
      <MailPage title="Search" viewer={viewer} path={c.req.path} folders={folders} current={null}>
        <h1>Search mail</h1>
        <SearchForm csrf={viewer.session.csrfToken} folders={folders} terms={terms} error={error} />
      </MailPage>,
      status,
    );
  };

  app.get('/search', (c) => formPage(c, null, null));

  app.post('/search', async (c) => {
    const terms = termsFrom(await readForm(c));
    try {
      validateTerms(terms);
    } catch (e) {
      if (isPosternError(e, 'INVALID_INPUT')) return formPage(c, terms, e.userMessage, 400);
      throw e;
    }
    // The store starts searching now, while the browser follows the redirect to the results page.
    const id = await saved.save(c.get('ctx').db, viewerOf(c).session.id, terms, () => withStore(c, pool, (client) => searchResults(client, terms, 1)));
    return c.redirect(resultsHref(id), 303);
  });

  app.get('/search/results', async (c) => {
    const viewer = viewerOf(c);
    const id = (c.req.query('q') ?? '').slice(0, 64);
    const terms = await saved.get(c.get('ctx').db, viewer.session.id, id);
    if (!terms) return c.redirect('/mail/search', 303);
    const requested = positiveInt(c.req.query('page'), 1);
    const early = requested === 1 ? await saved.takeEarly(viewer.session.id, id) : null;
    const { folders, hits, capped, messages, page, pages } = early ?? (await withStore(c, pool, (client) => searchResults(client, terms, requested)));
    const single = terms.folder;
    const canDelete = !refusalFor(c, { kind: 'expunge' });
    const canMove = !refusalFor(c, { kind: 'move-out' });
    return c.html(
      <MailPage title="Search results" viewer={viewer} path={c.req.path} folders={folders} current={null} notice={NOTICES[c.req.query('notice') ?? ''] ?? null}>
        <h1>Search results</h1>
        <p class="muted">
          {hits.length} message{hits.length === 1 ? '' : 's'} found{capped ? ' (only the first ones are shown: narrow the search)' : ''}
        </p>
        {messages.length ? (
          <>
            <MessageTable
              folder={single ?? 'INBOX'}
              messages={messages}
              csrf={viewer.session.csrfToken}
              actions={{ canDelete, canMove, targets: folders.filter((f) => f.selectable && f.path !== single).map((f) => f.path) }}
              recipientColumn={false}
              inTrash={Boolean(single) && folders.find((f) => f.path === single)?.specialUse === '\\Trash'}
              back={resultsHref(id, page)}
              folderOf={single ? undefined : (m) => (m as (typeof messages)[number]).folder}
            />
            <Pager page={page} pages={pages} href={(p) => resultsHref(id, p)} />
          </>
        ) : (
          <div class="card">Nothing matched.</div>
        )}
        <h2>Search again</h2>
        <SearchForm csrf={viewer.session.csrfToken} folders={folders} terms={terms} />
      </MailPage>,
    );
  });

  return app;
}
