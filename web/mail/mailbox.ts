/**
 * Webmail's view of the store: the upstream IMAP server, logged in as a master user on behalf of the
 * mailbox (SASL PLAIN authzid, RFC 4616 §2) — the same arrangement as the IMAP gateway. A restricted
 * session uses the restricted master user when one is configured, whose ACL lacks the expunge/delete
 * rights, so the store itself refuses damage even if this code had a bug; the route refuses first.
 */
import type { ImapFlow } from 'imapflow';
import type { AppContext } from '../../src/context.js';
import type { WebSession } from '../../src/auth/web-sessions.js';
import { PosternError } from '../../src/errors.js';
import { storeClient } from '../../src/upstream/store-client.js';
import { storeIdentity } from '../../src/upstream/store-identity.js';

export interface MessageSummary {
  uid: number;
  from: string;
  subject: string;
  date: Date | null;
  seen: boolean;
  size: number;
}

export const INBOX_PAGE_SIZE = 50;

async function withInbox<T>(ctx: AppContext, session: Pick<WebSession, 'upstreamUser' | 'restricted'>, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const store = storeIdentity(ctx.config, { mailbox: session.upstreamUser, restricted: session.restricted });
  if (!store) throw new PosternError('UPSTREAM_UNAVAILABLE', { context: { reason: 'no upstream configured' } });
  const client = storeClient(ctx, store, 'webmail');
  try {
    await client.connect();
  } catch (e) {
    throw new PosternError('UPSTREAM_UNAVAILABLE', { cause: e });
  }
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      return await fn(client);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** The newest messages of the INBOX (envelope only), newest first. */
export async function listInbox(
  ctx: AppContext,
  session: Pick<WebSession, 'upstreamUser' | 'restricted'>,
  limit = INBOX_PAGE_SIZE,
): Promise<{ total: number; messages: MessageSummary[] }> {
  return withInbox(ctx, session, async (client) => {
    const total = client.mailbox ? client.mailbox.exists : 0;
    if (!total) return { total: 0, messages: [] };
    const from = Math.max(1, total - limit + 1);
    const messages: MessageSummary[] = [];
    for await (const m of client.fetch(`${from}:*`, { uid: true, envelope: true, flags: true, size: true })) {
      const sender = m.envelope?.from?.[0];
      messages.push({
        uid: m.uid,
        from: sender ? (sender.name ? `${sender.name} <${sender.address ?? ''}>` : (sender.address ?? '')) : '',
        subject: m.envelope?.subject ?? '',
        date: m.envelope?.date ? new Date(m.envelope.date) : null,
        seen: m.flags?.has('\\Seen') ?? false,
        size: m.size ?? 0,
      });
    }
    messages.reverse();
    return { total, messages };
  });
}

/** Deletes one INBOX message by UID. Never for restricted sessions (checked here too: defence in depth). */
export async function deleteInboxMessage(ctx: AppContext, session: Pick<WebSession, 'upstreamUser' | 'restricted'>, uid: number): Promise<boolean> {
  if (session.restricted) throw new PosternError('FORBIDDEN', { context: { reason: 'restricted session cannot delete' } });
  return withInbox(ctx, session, async (client) => client.messageDelete(String(uid), { uid: true }));
}
