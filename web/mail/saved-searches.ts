/**
 * Searches kept server-side under an opaque id, bound to the web session that made them, so that search
 * terms never go in a URL. The terms live in the database (web_saved_searches), so a results link — the
 * redirect after the post, page 2, the way back from a message — works on whichever instance a balancer
 * picks. They last 30 minutes, at most 20 a session, and go with the session (serve's housekeeping prunes
 * them: pruneSavedSearches).
 *
 * Page 1 of a fresh search is also started on the store while the browser follows the redirect; that
 * answer stays in this process and is handed over once. A results page served elsewhere, later (a reload,
 * the back button) or for page 2 searches again, so it shows the folder as it is then.
 */
import crypto from 'node:crypto';
import { and, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { webSavedSearches, webSessions } from '../../src/db/schema.js';
import type { SearchResults, SearchTerms } from './search.js';

export const MAX_SAVED_PER_SESSION = 20;
export const SAVED_SEARCH_MINUTES = 30;
/** How long an early page-1 answer waits for the results page it was started for. */
const EARLY_RESULTS_MS = 10_000;

const fresh = () => gt(webSavedSearches.createdAt, sql`now() - make_interval(mins => ${SAVED_SEARCH_MINUTES})`);

export function createSavedSearches({ earlyResultsMs = EARLY_RESULTS_MS } = {}) {
  const early = new Map<string, { sessionId: string; results: Promise<SearchResults | null> }>();
  return {
    /**
     * Keeps the terms under a new id (the session's oldest beyond 20 go). `startEarly` (optional) starts
     * page 1 now; a failure there is not kept (the results page searches again).
     */
    async save(db: Db, sessionId: string, terms: SearchTerms, startEarly?: () => Promise<SearchResults>): Promise<string> {
      const id = crypto.randomBytes(16).toString('base64url');
      await db.transaction(async (tx) => {
        await tx.insert(webSavedSearches).values({ id, sessionId, terms: { ...terms } });
        const keep = tx
          .select({ id: webSavedSearches.id })
          .from(webSavedSearches)
          .where(eq(webSavedSearches.sessionId, sessionId))
          .orderBy(desc(webSavedSearches.createdAt), desc(webSavedSearches.id))
          .limit(MAX_SAVED_PER_SESSION);
        await tx.delete(webSavedSearches).where(and(eq(webSavedSearches.sessionId, sessionId), sql`${webSavedSearches.id} not in (${keep})`));
      });
      if (startEarly) {
        early.set(id, { sessionId, results: startEarly().catch(() => null) });
        // Up to MAX_HITS hits held for a redirect that may never come: let them go when they go stale.
        setTimeout(() => early.delete(id), earlyResultsMs).unref();
      }
      return id;
    },

    /** The terms saved under `id` by this session within the last 30 minutes, or null. */
    async get(db: Db, sessionId: string, id: string): Promise<SearchTerms | null> {
      const [row] = await db
        .select({ terms: webSavedSearches.terms })
        .from(webSavedSearches)
        .where(and(eq(webSavedSearches.id, id), eq(webSavedSearches.sessionId, sessionId), fresh()));
      return row ? (row.terms as unknown as SearchTerms) : null;
    },

    /** Page 1 as started by `save` in this process, once and only while fresh; else null: search again. */
    async takeEarly(sessionId: string, id: string): Promise<SearchResults | null> {
      const entry = early.get(id);
      if (!entry || entry.sessionId !== sessionId) return null;
      early.delete(id);
      return entry.results;
    },
  };
}

/** Drops saved searches older than 30 minutes and those of sessions that ended (serve's housekeeping). */
export async function pruneSavedSearches(db: Db): Promise<number> {
  const ended = db
    .select({ id: webSessions.id })
    .from(webSessions)
    .where(or(sql`${webSessions.revokedAt} is not null`, lt(webSessions.expiresAt, sql`now()`)));
  const rows = await db
    .delete(webSavedSearches)
    .where(or(lt(webSavedSearches.createdAt, sql`now() - make_interval(mins => ${SAVED_SEARCH_MINUTES})`), inArray(webSavedSearches.sessionId, ended)))
    .returning({ id: webSavedSearches.id });
  return rows.length;
}
