/**
 * One store connection per web session, kept between requests. Roundcube logs in to IMAP on every request
 * and most of its list time is that login; keeping the connection is the fix (imapproxy exists for it).
 *
 * The connection logs in as the session's mailbox through the store identity (the restricted master for
 * restricted sessions, src/upstream/store-identity.ts). It is closed when idle for IDLE_CLOSE_MS, at
 * sign-out, when the web session ends (revoked or expired, found by the sweep) and when the pool is full
 * (least recently used first). A connection found dead is replaced once per request; a store that cannot be
 * reached is UPSTREAM_UNAVAILABLE, which the web renders as a 503 page.
 */
import { and, gt, inArray, isNull } from 'drizzle-orm';
import type { ImapFlow } from 'imapflow';
import type { AppContext } from '../../src/context.js';
import type { WebSession } from '../../src/auth/web-sessions.js';
import { webSessions } from '../../src/db/schema.js';
import { PosternError } from '../../src/errors.js';
import { storeClient } from '../../src/upstream/store-client.js';
import { storeIdentity } from '../../src/upstream/store-identity.js';

/** A kiosk user reads a message for a while; past this the login costs less than the idle socket. */
export const IDLE_CLOSE_MS = 3 * 60_000;
const SWEEP_INTERVAL_MS = 30_000;
/** Each connection is a Dovecot process: bound them. */
const MAX_CONNECTIONS = 500;

export type StoreSession = Pick<WebSession, 'id' | 'upstreamUser' | 'restricted'>;

interface Entry {
  client: Promise<ImapFlow>;
  lastUsed: number;
  /** Requests using the connection right now: never closed under them. */
  busy: number;
}

export interface StorePool {
  /** Runs `fn` on this session's connection (opened on first use, replaced once if found dead). */
  use<T>(session: StoreSession, fn: (client: ImapFlow) => Promise<T>): Promise<T>;
  /** Closes the session's connection (sign-out). */
  close(sessionId: string): Promise<void>;
  /** Closes idle connections and those of sessions that ended; the timer calls it. */
  sweep(): Promise<void>;
  /** How many connections are open (tests, metrics). */
  size(): number;
  has(sessionId: string): boolean;
  closeAll(): Promise<void>;
}

async function connect(ctx: AppContext, session: StoreSession): Promise<ImapFlow> {
  const store = storeIdentity(ctx.config, { mailbox: session.upstreamUser, restricted: session.restricted });
  if (!store) throw new PosternError('UPSTREAM_UNAVAILABLE', { context: { reason: 'no upstream configured' } });
  const client = storeClient(ctx, store, 'webmail');
  try {
    await client.connect();
  } catch (e) {
    client.close();
    throw new PosternError('UPSTREAM_UNAVAILABLE', { cause: e, context: { reason: 'store connect failed' } });
  }
  return client;
}

function isDead(client: ImapFlow): boolean {
  return !client.usable;
}

async function shut(client: Promise<ImapFlow>): Promise<void> {
  const c = await client.catch(() => null);
  if (!c) return;
  if (!c.usable) return c.close();
  await c.logout().catch(() => c.close());
}

export function createStorePool(ctx: AppContext, options: { idleCloseMs?: number } = {}): StorePool {
  const idleCloseMs = options.idleCloseMs ?? IDLE_CLOSE_MS;
  const entries = new Map<string, Entry>();

  function drop(sessionId: string, entry: Entry): Promise<void> {
    if (entries.get(sessionId) === entry) entries.delete(sessionId);
    return shut(entry.client);
  }

  function makeRoom(): void {
    if (entries.size < MAX_CONNECTIONS) return;
    let oldest: [string, Entry] | null = null;
    for (const pair of entries) if (!pair[1].busy && (!oldest || pair[1].lastUsed < oldest[1].lastUsed)) oldest = pair;
    if (oldest) void drop(oldest[0], oldest[1]);
  }

  function entryFor(session: StoreSession): Entry {
    let entry = entries.get(session.id);
    if (!entry) {
      makeRoom();
      const client = connect(ctx, session);
      entry = { client, lastUsed: Date.now(), busy: 0 };
      entries.set(session.id, entry);
      // A failed connect is not kept: the next request tries again.
      const failed = entry;
      client.catch(() => entries.get(session.id) === failed && entries.delete(session.id));
    }
    return entry;
  }

  async function attempt<T>(session: StoreSession, fn: (client: ImapFlow) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    let entry = entryFor(session);
    let client = await entry.client;
    if (isDead(client)) {
      await drop(session.id, entry);
      entry = entryFor(session);
      client = await entry.client;
    }
    entry.busy++;
    try {
      return { ok: true, value: await fn(client) };
    } catch (error) {
      // Only a connection that died under the request is retried; a NO from the store is an answer.
      if (isDead(client)) {
        await drop(session.id, entry);
        return { ok: false, error };
      }
      throw error;
    } finally {
      entry.busy--;
      entry.lastUsed = Date.now();
    }
  }

  const pool: StorePool = {
    async use(session, fn) {
      const first = await attempt(session, fn);
      if (first.ok) return first.value;
      ctx.log.warn({ code: 'UPSTREAM_UNAVAILABLE', component: 'webmail' }, 'store connection died; reconnecting once');
      const second = await attempt(session, fn);
      if (second.ok) return second.value;
      throw new PosternError('UPSTREAM_UNAVAILABLE', { cause: second.error, context: { reason: 'store connection lost twice' } });
    },
    async close(sessionId) {
      const entry = entries.get(sessionId);
      if (entry) await drop(sessionId, entry);
    },
    async sweep() {
      const now = Date.now();
      for (const [id, entry] of entries) if (!entry.busy && now - entry.lastUsed >= idleCloseMs) void drop(id, entry);
      const ids = [...entries.keys()];
      if (!ids.length) return;
      const live = await ctx.db
        .select({ id: webSessions.id })
        .from(webSessions)
        .where(and(inArray(webSessions.id, ids), isNull(webSessions.revokedAt), gt(webSessions.expiresAt, new Date())));
      const liveIds = new Set(live.map((r) => r.id));
      for (const id of ids) {
        const entry = entries.get(id);
        if (entry && !liveIds.has(id)) void drop(id, entry);
      }
    },
    size: () => entries.size,
    has: (id) => entries.has(id),
    async closeAll() {
      clearInterval(timer);
      await Promise.all([...entries].map(([id, e]) => drop(id, e)));
    },
  };

  const timer = setInterval(() => {
    pool.sweep().catch((err: unknown) => ctx.log.warn({ err, code: 'WEBMAIL_SWEEP_FAILED' }, 'closing idle store connections failed'));
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  return pool;
}
