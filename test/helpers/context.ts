/**
 * A complete AppContext for a test file: fresh database, random secret key, cheap argon2 (set by
 * setup-env.ts), the shared Dovecot as upstream.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { settleLoginNotices } from '../../src/notices/index.js';

export interface TestContext extends AppContext {
  testDb: TestDatabase;
  close(): Promise<void>;
}

/** Config for tests: the shared Dovecot as upstream, a private DATA_DIR, extra env on top. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  const dovecot = inject('dovecot');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-test-'));
  return loadConfig({
    ...process.env,
    DATABASE_URL: undefined,
    DATA_DIR: dataDir,
    WEB_PORT: '0',
    IMAP_PORT: '0',
    SMTP_PORT: '0',
    UPSTREAM_IMAP: `${dovecot.host}:${dovecot.port}`,
    UPSTREAM_MASTER_USER: dovecot.masterUser,
    UPSTREAM_MASTER_PASSWORD: dovecot.masterPassword,
    UPSTREAM_RESTRICTED_MASTER_USER: dovecot.restrictedMasterUser,
    UPSTREAM_RESTRICTED_MASTER_PASSWORD: dovecot.restrictedMasterPassword,
    ...env,
  });
}

export async function createTestContext(
  options: { env?: Record<string, string | undefined>; forcePostgres?: boolean } = {},
): Promise<TestContext> {
  const testDb = await createTestDatabase({ forcePostgres: options.forcePostgres });
  const config = testConfig(options.env);
  const ctx = await createContext(config, { database: testDb.database, secretKey: crypto.randomBytes(32) });
  return {
    ...ctx,
    testDb,
    async close() {
      // Login notices run after the login answered: let them finish before the database goes.
      await settleLoginNotices(ctx);
      await ctx.liveSessions.close();
      await testDb.drop();
      fs.rmSync(config.DATA_DIR, { recursive: true, force: true });
    },
  };
}
