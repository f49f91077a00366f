/**
 * The saved-search store behind POST /mail/search (web/mail/search.ts): the page-1 search the post starts
 * is handed to the results page once, only to the session that posted, only while fresh, and a failed
 * one is never shown (the page searches again).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSavedSearches, type SearchResults, type SearchTerms } from '../../../web/mail/search.js';

const terms: SearchTerms = { folder: 'INBOX', from: '', to: '', subject: 'x', body: '', since: '', before: '', unread: false, flagged: false };
const results = (page: number): SearchResults => ({ folders: [], hits: [], capped: false, page, pages: 1, messages: [] });

afterEach(() => vi.useRealTimers());

describe('saved searches', () => {
  it('hands the early page 1 over once; the next showing searches again', async () => {
    const saved = createSavedSearches();
    const id = saved.save('s1', terms, async () => results(1));
    expect(await saved.takeEarly('s1', id)).toEqual(results(1));
    expect(await saved.takeEarly('s1', id)).toBeNull();
    expect(saved.get('s1', id)).toEqual(terms);
  });

  it('gives another session nothing, and leaves the early results to the session that posted', async () => {
    const saved = createSavedSearches();
    const id = saved.save('s1', terms, async () => results(1));
    expect(await saved.takeEarly('s2', id)).toBeNull();
    expect(saved.get('s2', id)).toBeNull();
    expect(await saved.takeEarly('s1', id)).toEqual(results(1));
  });

  it('does not hand over early results older than ten seconds', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'] });
    const saved = createSavedSearches();
    const id = saved.save('s1', terms, async () => results(1));
    vi.advanceTimersByTime(11_000);
    expect(await saved.takeEarly('s1', id)).toBeNull();
    expect(saved.get('s1', id)).toEqual(terms);
  });

  it('turns a failed early search into "search again", with no unhandled rejection', async () => {
    const saved = createSavedSearches();
    const id = saved.save('s1', terms, () => Promise.reject(new Error('store went away')));
    expect(await saved.takeEarly('s1', id)).toBeNull();
  });

  it('without an early search, has nothing to hand over', async () => {
    const saved = createSavedSearches();
    const id = saved.save('s1', terms);
    expect(await saved.takeEarly('s1', id)).toBeNull();
  });
});
