/**
 * A short-lived memory of successful mail-protocol logins, so a client reconnecting every few seconds does
 * not pay an argon2 verification each time. Only reusable secrets (main, alternate and app passwords) and
 * only IMAP/SMTP are cached; one-time codes and SMS logins never are.
 *
 * The key is HMAC-SHA-256(SECRET_KEY, service, client address, username, secret): the secret itself is
 * never kept, and a hit needs the same secret from the same address for the same service.
 *
 * Invalidation: revoking a login, changing a password or disabling a user calls `invalidateUser`, which
 * drops the user's entries here at once and NOTIFYs other instances on the same PostgreSQL database
 * (channel `postern_auth_cache`), which drop theirs on receipt — well within a second. A per-user
 * generation number stops a login that was already verifying when the change happened from caching a
 * stale success afterwards.
 *
 * NOTIFYs sent while this instance's LISTEN connection was lost are never delivered, so when it comes
 * back (`onListenReconnect`) the whole cache is dropped: a revocation made during the gap takes effect
 * at the next login instead of up to 60 s later.
 */
import type { AppContext } from '../context.js';
import type { Database } from '../db/client.js';
import { log } from '../log.js';
import { keyedHash } from './keyed-hash.js';
import type { AuthRequest, AuthSuccess } from './types.js';

export const AUTH_CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;
const CHANNEL = 'postern_auth_cache';

interface Entry {
  result: AuthSuccess;
  expiresAt: number;
}

export class AuthCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByUser = new Map<number, Set<string>>();
  /**
   * Generations come from one increasing counter: a user's entry when they changed, and `floor` when the
   * whole cache was dropped, so a verification that started before either cannot cache its success.
   */
  private readonly generations = new Map<number, number>();
  private counter = 0;
  private floor = 0;
  /** Resolves once this instance hears other instances' invalidations (never rejects). */
  readonly ready: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly ttlMs = AUTH_CACHE_TTL_MS,
  ) {
    this.ready = database
      .listen(CHANNEL, (payload) => {
        const userId = Number(payload);
        if (Number.isInteger(userId)) this.dropUser(userId);
      })
      .then(
        () => undefined,
        (err: unknown) => {
          // The subscription keeps retrying on its own; until it is back, the cache is flushed on reconnect.
          if (!closing(err)) log.warn({ err, code: 'AUTH_CACHE_LISTEN_FAILED' }, 'auth cache could not subscribe to invalidations yet');
        },
      );
    database.onListenReconnect(() => this.clear());
  }

  /** The cached success for this exact request, if still fresh. */
  get(key: string): AuthSuccess | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.result;
  }

  /** The user's generation: read it before verifying, pass it to `set`. */
  generation(userId: number): number {
    return Math.max(this.generations.get(userId) ?? 0, this.floor);
  }

  /** Remembers a success unless the user changed (generation moved) while it was being verified. */
  set(key: string, result: AuthSuccess, generation: number): void {
    if (this.generation(result.userId) !== generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.evictExpiredOrOldest();
    this.entries.set(key, { result, expiresAt: Date.now() + this.ttlMs });
    let keys = this.keysByUser.get(result.userId);
    if (!keys) this.keysByUser.set(result.userId, (keys = new Set()));
    keys.add(key);
  }

  dropUser(userId: number): void {
    this.generations.set(userId, ++this.counter);
    for (const key of this.keysByUser.get(userId) ?? []) this.entries.delete(key);
    this.keysByUser.delete(userId);
  }

  /** Forgets every entry: nothing cached before can be trusted (invalidations may have been missed). */
  clear(): void {
    this.floor = ++this.counter;
    this.generations.clear();
    this.entries.clear();
    this.keysByUser.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private evictExpiredOrOldest(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    // Map iteration is insertion order: the first entries are the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(key);
    }
  }
}

/** The database handle was closed before the subscription finished (a short CLI run): not worth a warning. */
function closing(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'CONNECTION_DESTROYED' || (err as { code?: unknown })?.code === 'CONNECTION_ENDED';
}

const caches = new WeakMap<Database, AuthCache>();

/** The cache of this database handle (one per instance), created and subscribed on first use. */
export function getAuthCache(ctx: Pick<AppContext, 'database'>): AuthCache {
  let cache = caches.get(ctx.database);
  if (!cache) caches.set(ctx.database, (cache = new AuthCache(ctx.database)));
  return cache;
}

/**
 * The cache key of a request: never the secret, only a keyed hash of it. The client's name is part of it,
 * so an app password used from a program it was not seen with is decided (and its owner notified, see
 * src/notices/) instead of answered from the cache.
 */
export function authCacheKey(ctx: Pick<AppContext, 'secretKey'>, req: AuthRequest, username: string): string {
  // eslint-disable-next-line no-control-regex
  const client = (req.client ?? '').replace(/\u0000/g, '');
  return keyedHash(ctx.secretKey, 'auth-cache', req.service, req.ip, client, username, req.secret);
}

/**
 * Forgets every cached login of a user, here at once and on other instances via NOTIFY. Call after
 * revoking a login, changing a password or disabling the user (after the change is committed).
 */
export async function invalidateUser(ctx: Pick<AppContext, 'database'>, userId: number): Promise<void> {
  getAuthCache(ctx).dropUser(userId);
  await ctx.database.notify(CHANNEL, String(userId));
}
