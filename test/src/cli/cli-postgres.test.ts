/**
 * The `postern` command as a child process against real PostgreSQL (issue 18): a change that was applied
 * exits 0 with nothing on stderr, and the process ends by itself (its connections, including the LISTEN
 * one the auth cache opens on first use, are closed cleanly). Before, `altlogin revoke`, `user disable`
 * and `user enable` exited 1 with an uncaught CONNECTION_DESTROYED stack trace after applying the change.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { altLogins, users } from '../../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const bin = path.resolve(__dirname, '../../../bin/postern.js');
let testDb: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  testDb = await createTestDatabase({ forcePostgres: true });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cli-pg-'));
});
afterAll(async () => {
  await testDb?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function postern(args: string[], stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, DATABASE_URL: testDb.url, DATA_DIR: dataDir, SECRET_KEY: 'k'.repeat(40), LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function expectCleanSuccess(r: { code: number | null; stdout: string; stderr: string }) {
  expect(r.stderr).toBe('');
  expect(r.stdout).not.toMatch(/CONNECTION_|"level":(40|50|60)/);
  expect(r.code).toBe(0);
}

describe('postern CLI against PostgreSQL', { timeout: 120_000 }, () => {
  it('user disable / enable and altlogin revoke exit 0 with their change applied', async () => {
    expectCleanSuccess(await postern(['user', 'add', 'cliuser', '--password-stdin'], 'cli user password\n'));
    const [user] = await testDb.database.db.select().from(users).where(eq(users.username, 'cliuser'));
    expect(user).toBeDefined();

    const disabled = await postern(['user', 'disable', 'cliuser']);
    expectCleanSuccess(disabled);
    expect(disabled.stdout).toContain('cliuser disabled');
    expect((await testDb.database.db.select().from(users).where(eq(users.id, user!.id)))[0]!.disabled).toBe(true);

    expectCleanSuccess(await postern(['user', 'enable', 'cliuser']));
    expect((await testDb.database.db.select().from(users).where(eq(users.id, user!.id)))[0]!.disabled).toBe(false);

    const added = await postern(['altlogin', 'add', 'cliuser', '--kind', 'app', '--json']);
    expectCleanSuccess(added);
    const loginId = (JSON.parse(added.stdout) as { id: number }).id;
    expectCleanSuccess(await postern(['altlogin', 'revoke', String(loginId)]));
    const [login] = await testDb.database.db.select().from(altLogins).where(eq(altLogins.id, loginId));
    expect(login!.revokedAt).not.toBeNull();
  });

  it('a refused change still exits non-zero with one line', async () => {
    const r = await postern(['user', 'disable', 'nobody-here']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
