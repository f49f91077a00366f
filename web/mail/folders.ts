/**
 * The folder list: LIST with SPECIAL-USE (RFC 6154) and unread counts (LIST-STATUS, RFC 5819, where the
 * store offers it; imapflow falls back to STATUS per folder). The special folders come first in the order
 * a mail user expects, then the user's own, nested under their parents.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import { PosternError } from '../../src/errors.js';

export type SpecialUse = '\\Inbox' | '\\Drafts' | '\\Sent' | '\\Archive' | '\\Junk' | '\\Trash';

const SPECIAL_ORDER: SpecialUse[] = ['\\Inbox', '\\Drafts', '\\Sent', '\\Archive', '\\Junk', '\\Trash'];

/** The name created when a needed special folder is missing. */
export const SPECIAL_DEFAULT_NAME: Record<'\\Archive' | '\\Trash', string> = { '\\Archive': 'Archive', '\\Trash': 'Trash' };

export interface Folder {
  path: string;
  /** The last part of the path, for display. */
  name: string;
  /** 0 for top-level folders; nested folders are indented by depth. */
  depth: number;
  specialUse: SpecialUse | null;
  unseen: number;
  total: number;
  /** \Noselect containers are shown but not linked. */
  selectable: boolean;
}

function specialOf(f: ListResponse): SpecialUse | null {
  if (f.path.toUpperCase() === 'INBOX') return '\\Inbox';
  return SPECIAL_ORDER.includes(f.specialUse as SpecialUse) ? (f.specialUse as SpecialUse) : null;
}

/** Sorts special folders first (in SPECIAL_ORDER), then the rest as a tree in name order. Pure. */
export function orderFolders(list: Folder[]): Folder[] {
  const special = list
    .filter((f) => f.specialUse && f.depth === 0)
    .sort((a, b) => SPECIAL_ORDER.indexOf(a.specialUse!) - SPECIAL_ORDER.indexOf(b.specialUse!));
  const rest = list.filter((f) => !special.includes(f)).sort((a, b) => a.path.localeCompare(b.path));
  return [...special, ...rest];
}

export async function listFolders(client: ImapFlow): Promise<Folder[]> {
  const list = await client.list({ statusQuery: { unseen: true, messages: true } });
  return orderFolders(
    list.map((f) => ({
      path: f.path,
      name: f.path.toUpperCase() === 'INBOX' ? 'Inbox' : f.name,
      depth: f.parent.length,
      specialUse: specialOf(f),
      unseen: f.status?.unseen ?? 0,
      total: f.status?.messages ?? 0,
      selectable: !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'),
    })),
  );
}

/** The path of the folder with this special use, or null (found by flag or, failing that, by name). */
export async function findSpecialFolder(client: ImapFlow, use: SpecialUse): Promise<string | null> {
  if (use === '\\Inbox') return 'INBOX';
  const list = await client.list();
  return list.find((f) => f.specialUse === use)?.path ?? null;
}

/** The Trash or Archive folder, created (and marked, where the store allows) when missing. */
export async function ensureSpecialFolder(client: ImapFlow, use: '\\Archive' | '\\Trash'): Promise<string> {
  const found = await findSpecialFolder(client, use);
  if (found) return found;
  const created = await client.mailboxCreate(SPECIAL_DEFAULT_NAME[use]);
  return created.path;
}

/** Folder names a person may create: no control characters, no wildcards, a sane length. */
export function validFolderName(name: string): string {
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex
  if (!trimmed || trimmed.length > 200 || /[\u0000-\u001f\u007f*%]/.test(trimmed))
    throw new PosternError('INVALID_INPUT', { message: 'Folder names must be 1 to 200 characters, without * or %.' });
  return trimmed;
}

export async function createFolder(client: ImapFlow, parent: string, name: string): Promise<string> {
  const clean = validFolderName(name);
  const path = parent ? [...splitPath(parent, await delimiterOf(client)), clean] : clean;
  const created = await client.mailboxCreate(path);
  return created.path;
}

async function delimiterOf(client: ImapFlow): Promise<string> {
  const [first] = await client.list();
  return first?.delimiter ?? '/';
}

function splitPath(path: string, delimiter: string): string[] {
  return delimiter ? path.split(delimiter) : [path];
}
