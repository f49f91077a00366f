/**
 * One page of a folder, newest first. Sequence numbers are arrival order (RFC 9051 §2.3.1.2), so the
 * newest 50 are the top 50 sequence numbers and page N is one sequence range: the store fetches only that
 * page's envelopes, and page 200 costs what page 1 does (a SORT would order the whole folder each time).
 */
import type { FetchMessageObject, ImapFlow, MessageAddressObject } from 'imapflow';
import { hasAttachment } from './mime-parts.js';
import { inFolder } from './open-folder.js';

export const PAGE_SIZE = 50;

export interface MessageSummary {
  uid: number;
  seq: number;
  /** The From (or, in Sent and Drafts, the To) to show in the list. */
  correspondent: string;
  subject: string;
  /** The Date header, or the arrival time when there is none. */
  date: Date | null;
  seen: boolean;
  flagged: boolean;
  answered: boolean;
  attachment: boolean;
  size: number;
}

export interface MessagePage {
  folder: string;
  total: number;
  page: number;
  pages: number;
  messages: MessageSummary[];
}

export function formatAddress(a: MessageAddressObject | undefined): string {
  if (!a) return '';
  return a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? '');
}

export function formatAddresses(list: MessageAddressObject[] | undefined): string {
  return (list ?? []).map(formatAddress).filter(Boolean).join(', ');
}

function validDate(d: Date | string | undefined): Date | null {
  if (!d) return null;
  const date = d instanceof Date ? d : new Date(d);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function summarize(m: FetchMessageObject, showRecipient: boolean): MessageSummary {
  const env = m.envelope;
  const who = showRecipient ? formatAddresses(env?.to) : formatAddress(env?.from?.[0]);
  return {
    uid: m.uid,
    seq: m.seq,
    correspondent: who,
    subject: env?.subject ?? '',
    date: validDate(env?.date) ?? validDate(m.internalDate),
    seen: m.flags?.has('\\Seen') ?? false,
    flagged: m.flags?.has('\\Flagged') ?? false,
    answered: m.flags?.has('\\Answered') ?? false,
    attachment: hasAttachment(m.bodyStructure),
    size: m.size ?? 0,
  };
}

export const SUMMARY_QUERY = { uid: true, envelope: true, flags: true, size: true, internalDate: true, bodyStructure: true } as const;

/** The sequence range of page `page` (1 = newest) in a folder of `total` messages, or null past the end. */
export function pageRange(total: number, page: number, size = PAGE_SIZE): { from: number; to: number } | null {
  const to = total - (page - 1) * size;
  if (to < 1) return null;
  return { from: Math.max(1, to - size + 1), to };
}

export async function listPage(client: ImapFlow, folder: string, requestedPage: number, showRecipient: boolean): Promise<MessagePage> {
  return inFolder(client, folder, async (total) => {
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const page = Math.min(Math.max(1, requestedPage), pages);
    const range = pageRange(total, page);
    const messages: MessageSummary[] = [];
    if (range) for await (const m of client.fetch(`${range.from}:${range.to}`, SUMMARY_QUERY)) messages.push(summarize(m, showRecipient));
    messages.sort((a, b) => b.seq - a.seq);
    return { folder, total, page, pages, messages };
  });
}
