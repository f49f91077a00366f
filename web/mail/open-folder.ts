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

export async function inFolder<T>(client: ImapFlow, path: string, fn: (exists: number) => Promise<T>): Promise<T> {
  const lock = await lockFolder(client, path);
  try {
    return await fn(client.mailbox ? client.mailbox.exists : 0);
  } finally {
    lock.release();
  }
}

/** Selects the folder and holds it until `release()` (a streamed download keeps it for its whole length). */
export async function lockFolder(client: ImapFlow, path: string): Promise<{ release(): void }> {
  // The connection is kept between requests: a folder already selected learns of new and expunged
  // messages only when asked (NOOP, RFC 9051 §6.1.2), so each request asks once (cheap after a SELECT).
  let lock;
  try {
    lock = await client.getMailboxLock(path);
  } catch (e) {
    if (isNonexistent(e)) throw new FolderGoneError(path);
    throw e;
  }
  try {
    await client.noop();
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}
