/**
 * The saved-search store behind POST /mail/search (web/mail/saved-searches.ts), on the suite's database:
 * the terms are found by the session that saved them on any instance (two stores over one database stand
 * for two `postern serve`), never by another session, for 30 minutes, 20 a session, and they go with the
 * session. The page-1 search the post starts is handed to the results page once, only in the process that
 * started it, only while fresh, and a failed one is never shown (the page searches again).
 */
import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { createWebSession, revokeWebSession } from '../../../src/auth/web-sessions.js';
import { webSavedSearches } from '../../../src/db/schema.js';
import { createSavedSearches, MAX_SAVED_PER_SESSION, pruneSavedSearches } from '../../../web/mail/saved-searches.js';
import type { SearchResults, SearchTerms } from '../../../web/mail/search.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

const terms = (subject = 'x'): SearchTerms => ({ folder: 'INBOX', from: '', to: '', subject, body: '', since: '', before: '', unread: false, flagged: true });
const results = (page: number): SearchResults => ({ folders: [], hits: [], capped: false, page, pages: 1, messages: [] });

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

async function newSession(): Promise<{ id: string; userId: number }> {
  const user = await createUser(ctx, { username: `ss${crypto.randomBytes(4).toString('hex')}`, password: 'main password 1' });
  const session = await createWebSession(ctx, { userId: user.id, loginId: null, method: 'main', restricted: false });
  return { id: session.id, userId: user.id };
}

describe('saved searches', () => {
  it('finds the terms on another instance, for the session that saved them only', async () => {
    const [s1, s2] = [await newSession(), await newSession()];
    const a = createSavedSearches();
    const b = createSavedSearches();
    const id = await a.save(ctx.db, s1.id, terms('on a'), async () => results(1));
    expect(await b.get(ctx.db, s1.id, id)).toEqual(terms('on a'));
    expect(await b.get(ctx.db, s2.id, id)).toBeNull();
    expect(await a.get(ctx.db, s2.id, id)).toBeNull();
    // The early answer stays where it was started: elsewhere the results page searches again.
    expect(await b.takeEarly(s1.id, id)).toBeNull();
    expect(await a.takeEarly(s1.id, id)).toEqual(results(1));
  });

  it('hands the early page 1 over once, and never to another session', async () => {
    const [s1, s2] = [await newSession(), await newSession()];
    const saved = createSavedSearches();
    const id = await saved.save(ctx.db, s1.id, terms(), async () => results(1));
    expect(await saved.takeEarly(s2.id, id)).toBeNull();
    expect(await saved.takeEarly(s1.id, id)).toEqual(results(1));
    expect(await saved.takeEarly(s1.id, id)).toBeNull();
    expect(await saved.get(ctx.db, s1.id, id)).toEqual(terms());
  });

  it('lets a stale early answer go (its timer), keeping the terms', async () => {
    const s = await newSession();
    const saved = createSavedSearches({ earlyResultsMs: 20 });
    const id = await saved.save(ctx.db, s.id, terms(), async () => results(1));
    await new Promise((r) => setTimeout(r, 60));
    expect(await saved.takeEarly(s.id, id)).toBeNull();
    expect(await saved.get(ctx.db, s.id, id)).toEqual(terms());
  });

  it('turns a failed early search into "search again", with no unhandled rejection; without one, has nothing', async () => {
    const s = await newSession();
    const saved = createSavedSearches();
    const failed = await saved.save(ctx.db, s.id, terms(), () => Promise.reject(new Error('store went away')));
    expect(await saved.takeEarly(s.id, failed)).toBeNull();
    const plain = await saved.save(ctx.db, s.id, terms());
    expect(await saved.takeEarly(s.id, plain)).toBeNull();
    expect(await saved.get(ctx.db, s.id, plain)).toEqual(terms());
  });

  it(`keeps a session's newest ${MAX_SAVED_PER_SESSION}`, async () => {
    const s = await newSession();
    const saved = createSavedSearches();
    const ids: string[] = [];
    for (let i = 0; i <= MAX_SAVED_PER_SESSION; i++) ids.push(await saved.save(ctx.db, s.id, terms(`n${i}`)));
    const rows = await ctx.db.select({ id: webSavedSearches.id }).from(webSavedSearches).where(eq(webSavedSearches.sessionId, s.id));
    expect(rows).toHaveLength(MAX_SAVED_PER_SESSION);
    expect(await saved.get(ctx.db, s.id, ids[0]!)).toBeNull();
    expect(await saved.get(ctx.db, s.id, ids[MAX_SAVED_PER_SESSION]!)).toEqual(terms(`n${MAX_SAVED_PER_SESSION}`));
  });

  it('forgets a search after 30 minutes, and housekeeping drops it and those of ended sessions', async () => {
    const [live, old, signedOut] = [await newSession(), await newSession(), await newSession()];
    const saved = createSavedSearches();
    const kept = await saved.save(ctx.db, live.id, terms('kept'));
    const stale = await saved.save(ctx.db, old.id, terms('stale'));
    const ended = await saved.save(ctx.db, signedOut.id, terms('ended'));
    await ctx.db.update(webSavedSearches).set({ createdAt: sql`now() - interval '31 minutes'` }).where(eq(webSavedSearches.id, stale));
    expect(await saved.get(ctx.db, old.id, stale)).toBeNull();
    await revokeWebSession(ctx, signedOut.id);

    await pruneSavedSearches(ctx.db);
    const left = new Set((await ctx.db.select({ id: webSavedSearches.id }).from(webSavedSearches)).map((r) => r.id));
    expect(left.has(kept)).toBe(true);
    expect(left.has(stale)).toBe(false);
    expect(left.has(ended)).toBe(false);
    expect(await saved.get(ctx.db, live.id, kept)).toEqual(terms('kept'));
  });
});
