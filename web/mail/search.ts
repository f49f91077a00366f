/**
 * Search through IMAP SEARCH on the store (RFC 9051 §6.4.4), in one folder or in all of them. The terms
 * never travel in a URL (a kiosk's history outlives the session): the form is posted, the terms are kept
 * under an opaque id bound to the web session (saved-searches.ts), and result pages name only that id.
 */
import type { ImapFlow, SearchObject } from 'imapflow';
import { PosternError } from '../../src/errors.js';
import { listFolders, type Folder } from './folders.js';
import { PAGE_SIZE, summarize, SUMMARY_QUERY, type MessageSummary } from './message-list.js';
import { inFolder } from './open-folder.js';

export interface SearchTerms {
  /** A folder path, or null for every folder. */
  folder: string | null;
  from: string;
  to: string;
  subject: string;
  body: string;
  since: string;
  before: string;
  unread: boolean;
  flagged: boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Hits kept from one search: past this the page says to narrow it. */
export const MAX_HITS = 5000;

export function toSearchObject(t: SearchTerms): SearchObject {
  const q: SearchObject = {};
  if (t.from) q.from = t.from;
  if (t.to) q.to = t.to;
  if (t.subject) q.subject = t.subject;
  if (t.body) q.body = t.body;
  if (t.since) q.since = t.since;
  if (t.before) q.before = t.before;
  if (t.unread) q.seen = false;
  if (t.flagged) q.flagged = true;
  if (!Object.keys(q).length) q.all = true;
  return q;
}

/** Checks what a person typed: one sentence for what is wrong. */
export function validateTerms(t: SearchTerms): SearchTerms {
  for (const d of [t.since, t.before]) if (d && (!DATE.test(d) || Number.isNaN(new Date(d).getTime()))) throw new PosternError('INVALID_INPUT', { message: 'Dates must be written as YYYY-MM-DD.' });
  if (!t.from && !t.to && !t.subject && !t.body && !t.since && !t.before && !t.unread && !t.flagged) throw new PosternError('INVALID_INPUT', { message: 'Enter at least one thing to search for.' });
  return t;
}

export interface SearchHit {
  folder: string;
  uid: number;
}

/** Every hit, newest first within each folder, folders in the folder list's order. */
export async function runSearch(client: ImapFlow, folders: Folder[], terms: SearchTerms): Promise<{ hits: SearchHit[]; capped: boolean }> {
  const scope = terms.folder ? folders.filter((f) => f.path === terms.folder) : folders.filter((f) => f.selectable);
  if (terms.folder && !scope.length) scope.push({ path: terms.folder, name: terms.folder, depth: 0, specialUse: null, unseen: 0, total: 0, selectable: true });
  const query = toSearchObject(terms);
  const hits: SearchHit[] = [];
  for (const f of scope) {
    const uids = await inFolder(client, f.path, async (exists) => (exists ? ((await client.search(query, { uid: true })) || []) : []));
    for (const uid of [...uids].sort((a, b) => b - a)) hits.push({ folder: f.path, uid });
    if (hits.length >= MAX_HITS) return { hits: hits.slice(0, MAX_HITS), capped: true };
  }
  return { hits, capped: false };
}

export interface SummaryInFolder extends MessageSummary {
  folder: string;
}

/** The envelopes of one page of hits, fetched per folder by UID set. */
export async function fetchHits(client: ImapFlow, hits: SearchHit[], page: number): Promise<SummaryInFolder[]> {
  const slice = hits.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const byFolder = new Map<string, number[]>();
  for (const h of slice) byFolder.set(h.folder, [...(byFolder.get(h.folder) ?? []), h.uid]);
  const found = new Map<string, SummaryInFolder>();
  for (const [folder, uids] of byFolder) {
    await inFolder(client, folder, async () => {
      for await (const m of client.fetch(uids.join(','), SUMMARY_QUERY, { uid: true })) found.set(`${folder}\n${m.uid}`, { ...summarize(m, false), folder });
    });
  }
  return slice.map((h) => found.get(`${h.folder}\n${h.uid}`)).filter((m): m is SummaryInFolder => Boolean(m));
}

/** One page of a search's results, with the folder list the page shows beside it. */
export interface SearchResults {
  folders: Folder[];
  hits: SearchHit[];
  capped: boolean;
  page: number;
  pages: number;
  messages: SummaryInFolder[];
}

/** Lists the folders, searches, and fetches page `requested` (clamped to the pages there are). */
export async function searchResults(client: ImapFlow, terms: SearchTerms, requested: number): Promise<SearchResults> {
  const folders = await listFolders(client);
  const { hits, capped } = await runSearch(client, folders, terms);
  const pages = Math.max(1, Math.ceil(hits.length / PAGE_SIZE));
  const page = Math.min(requested, pages);
  return { folders, hits, capped, page, pages, messages: await fetchHits(client, hits, page) };
}
