/**
 * Opens the database with one of two drivers behind one drizzle type:
 *  - DATABASE_URL set → PostgreSQL through postgres.js (several Postern instances may share it);
 *  - unset            → embedded PGlite persisted under DATA_DIR (or in memory for tests).
 * Both run the same migrations; nothing may work on one and not the other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The transaction handle drizzle passes to `db.transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Milliseconds within which re-subscribed LISTEN channels count as one reconnect. */
const LISTEN_RECONNECT_WINDOW_MS = 100;

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export interface Database {
  db: Db;
  driver: 'postgres' | 'pglite';
  /**
   * Subscribes to a PostgreSQL NOTIFY channel. PGlite is single-instance, so there it only hears this
   * process's own `notify` calls (delivered in-process).
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Calls `fn` whenever the LISTEN connection comes back after it was lost (or after the first subscribe
   * failed): notifications sent meanwhile were missed, so every cache kept fresh by NOTIFY must be treated
   * as stale. Returns the unsubscribe. PGlite never loses its in-process listeners, so it never fires there.
   */
  onListenReconnect(fn: () => void): () => void;
  notify(channel: string, payload: string): Promise<void>;
  migrate(): Promise<void>;
  /** Readiness probe for /readyz: true when `select 1` answers within PING_TIMEOUT_MS. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres:// URL; when absent the embedded database is used. */
  url?: string;
  /** Directory for the embedded database; absent = in memory. */
  dataDir?: string;
  /** Connection pool size for PostgreSQL (the LISTEN connection comes on top). */
  max?: number;
  /** How long one connection attempt to PostgreSQL may take. */
  connectTimeoutMs?: number;
  /** PostgreSQL's statement_timeout for every query of the pool (0: none); migrations have none. */
  statementTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
export const DEFAULT_POOL_MAX = 10;
/** A balancer's readiness check must not wait on a dead database longer than its own check interval. */
const PING_TIMEOUT_MS = 1500;

/**
 * Seconds postgres.js waits before the next connection attempt after a failed one. Its default grows to
 * 20 s, and every query queued meanwhile waits that long (the issue measured 7–17 s hangs during an
 * outage and a LISTEN that came back 14 s after the database). Short and capped: during an outage each
 * request fails fast, and the first attempt after the database returns succeeds within a quarter second.
 */
function reconnectDelaySeconds(retries: number): number {
  return Math.min(0.25, 0.02 * 2 ** retries);
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir);
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const connectOptions = { onnotice: () => {}, connect_timeout: connectTimeoutMs / 1000, backoff: reconnectDelaySeconds };
  const client = postgres(url, {
    ...connectOptions,
    max: options.max ?? DEFAULT_POOL_MAX,
    // Sent in the startup packet, so it holds for every connection of the pool, including reconnects.
    connection: { application_name: 'postern', ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}) },
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  const reconnectHooks = new Set<() => void>();
  let hooksScheduled = false;
  // Several channels come back together, each re-subscribed by its own LISTEN round trip: one round of
  // hooks per reconnect, after the last of them (a window, not the same tick).
  const listenReconnected = () => {
    if (hooksScheduled) return;
    hooksScheduled = true;
    setTimeout(() => {
      hooksScheduled = false;
      for (const fn of reconnectHooks) {
        try {
          fn();
        } catch {
          // One failing hook must not stop the others from treating their caches as stale.
        }
      }
    }, LISTEN_RECONNECT_WINDOW_MS).unref();
  };
  return {
    db,
    driver: 'postgres',
    async listen(channel, onPayload) {
      // postgres.js runs LISTEN on a connection of its own and re-subscribes after losing it (also after a
      // failed first attempt); `onlisten` runs on every (re)subscribe. The first successful one is the
      // start, every later one a reconnect.
      let subscribedBefore = false;
      const onListen = () => {
        if (subscribedBefore) listenReconnected();
        subscribedBefore = true;
      };
      try {
        const sub = await client.listen(channel, onPayload, onListen);
        return () => sub.unlisten();
      } catch (e) {
        subscribedBefore = true;
        throw e;
      }
    },
    onListenReconnect(fn) {
      reconnectHooks.add(fn);
      return () => void reconnectHooks.delete(fn);
    },
    async notify(channel, payload) {
      await client.notify(channel, payload);
    },
    async migrate() {
      // Its own connection without statement_timeout: a migration may rewrite a big table.
      const migrator = postgres(url, { ...connectOptions, max: 1, connection: { application_name: 'postern-migrate' } });
      try {
        await migratePostgres(drizzlePostgres(migrator), { migrationsFolder });
      } finally {
        await migrator.end({ timeout: 5 });
      }
    },
    ping: () => ping(db, PING_TIMEOUT_MS),
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir?: string): Promise<Database> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  const listeners = new Map<string, Set<(payload: string) => void>>();
  return {
    db,
    driver: 'pglite',
    async listen(channel, onPayload) {
      const set = listeners.get(channel) ?? new Set();
      set.add(onPayload);
      listeners.set(channel, set);
      return async () => void set.delete(onPayload);
    },
    onListenReconnect: () => () => {},
    async notify(channel, payload) {
      for (const fn of listeners.get(channel) ?? []) fn(payload);
    },
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder }),
    ping: () => ping(db, PING_TIMEOUT_MS),
    close: () => client.close(),
  };
}

/** Never waits longer than `timeoutMs`: a balancer's probe must not hang on a dead database. */
async function ping(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
  const answered = db.execute(sql`select 1`).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
