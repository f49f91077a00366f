/**
 * A fresh database per test file: PGlite in memory by default, or, when TEST_DATABASE_URL or DATABASE_URL
 * points at PostgreSQL, a freshly created database that is dropped afterwards.
 */
import crypto from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client.js';

export function testDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export interface TestDatabase {
  database: Database;
  driver: 'postgres' | 'pglite';
  /** URL of the created database (PostgreSQL only), so a test can open a second "instance". */
  url?: string;
  drop(): Promise<void>;
}

/** Creates and migrates a fresh database. `forcePostgres` makes a test fail (not skip) without PostgreSQL. */
export async function createTestDatabase(options: { forcePostgres?: boolean } = {}): Promise<TestDatabase> {
  const base = testDatabaseUrl() ?? (options.forcePostgres ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);
  if (!base) {
    const database = await openDatabase({});
    await database.migrate();
    return { database, driver: 'pglite', drop: () => database.close() };
  }
  const name = `postern_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = withDatabase(base, name);
  const database = await openDatabase({ url, max: 20 });
  await database.migrate();
  return {
    database,
    driver: 'postgres',
    url,
    async drop() {
      await database.close();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
