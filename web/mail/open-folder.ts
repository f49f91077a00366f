/**
 * Runs work with a folder selected on the session's connection. imapflow's mailbox lock queues other
 * requests of the same session (the page, its frame and its images) so they cannot select over each other.
 * A folder that does not exist (deleted by another client) is FolderGoneError, which the routes turn into
 * "back to Inbox with a notice".
 */
import type { ImapFlow } from 'imapflow';

export class FolderGoneError extends Error {
  constructor(readonly folder: string) {
    super('folder does not exist');
    this.name = 'FolderGoneError';
  }
}

function isNonexistent(e: unknown): boolean {
  const err = e as { mailboxMissing?: boolean; serverResponseCode?: string; responseText?: string; responseStatus?: string };
  return Boolean(err?.mailboxMissing) || err?.serverResponseCode === 'NONEXISTENT' || (err?.responseStatus === 'NO' && /exist|unknown mailbox/i.test(err.responseText ?? ''));
}

export async function inFolder<T>(client: ImapFlow, path: string, fn: (exists: number) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  let lock;
  try {
    lock = await client.getMailboxLock(path, { readOnly: options.readOnly ?? false });
  } catch (e) {
    if (isNonexistent(e)) throw new FolderGoneError(path);
    throw e;
  }
  try {
    return await fn(client.mailbox ? client.mailbox.exists : 0);
  } finally {
    lock.release();
  }
}
