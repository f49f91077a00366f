/**
 * Everything a domain call needs, built once per process (or per test) and passed explicitly: no module
 * keeps a hidden connection, so tests can run several contexts side by side.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Database, type Db } from './db/client.js';
import { log } from './log.js';
import { PasswordHasher } from './auth/passwords.js';
import { resolveSecretKey } from './secret-key.js';
import { createSmsSender } from './sms/create-sender.js';
import type { SmsSender } from './sms/sender.js';
import { LiveSessionRegistry } from './sessions/registry.js';

export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  /** Key for HMAC-SHA-256 of generated secrets; never logged. */
  secretKey: Buffer;
  hasher: PasswordHasher;
  log: Logger;
  /** The SMS provider chosen by SMS_PROVIDER (tests may pass their own). */
  sms: SmsSender;
  /** This instance's live IMAP/SMTP/webmail sessions (src/sessions/); `close()` it at shutdown. */
  liveSessions: LiveSessionRegistry;
  /**
   * Tests only: the time login windows are judged by (see src/clock.ts). Unset, the database's clock
   * decides, one clock for every instance.
   */
  clock?: () => Date;
}

export interface ContextOptions {
  /** Use an already-open database (tests) instead of opening one from the configuration. */
  database?: Database;
  secretKey?: Buffer;
  sms?: SmsSender;
}

/** Opens the database, applies migrations and assembles the context. */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const database =
    options.database ??
    (await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.DATABASE_URL ? undefined : `${config.DATA_DIR}/db`,
      max: config.DATABASE_POOL_MAX,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    }));
  if (!options.database) await database.migrate();
  return {
    config,
    database,
    db: database.db,
    secretKey: options.secretKey ?? resolveSecretKey({ secretKey: config.SECRET_KEY, dataDir: config.DATA_DIR }),
    hasher: new PasswordHasher({
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    }),
    log,
    sms: options.sms ?? createSmsSender(config, database.db, log),
    liveSessions: new LiveSessionRegistry(database, log),
  };
}
