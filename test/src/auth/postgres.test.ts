// Proofs that need real PostgreSQL (several connections, several instances): these fail, never skip,
// when it is not reachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword, createOneTimeList, listAltLogins, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { createUser, setPassword, setUserDisabled } from '../../../src/accounts/users.js';
import { getAuthCache } from '../../../src/auth/auth-cache.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import type { AppContext } from '../../../src/context.js';
import { openDatabase, type Database } from '../../../src/db/client.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('on PostgreSQL', () => {
  let a: TestContext;
  let secondDb: Database;
  let b: AppContext;
  beforeAll(async () => {
    a = await createTestContext({ forcePostgres: true });
    expect(a.testDb.driver).toBe('postgres');
    secondDb = await openDatabase({ url: a.testDb.url!, max: 4 });
    // A second Postern instance: its own pool, its own auth cache, the same database.
    b = { ...a, database: secondDb, db: secondDb.db };
    await Promise.all([getAuthCache(a).ready, getAuthCache(b).ready]);
  });
  afterAll(async () => {
    await secondDb.close();
    await a.close();
  });

  it('50 simultaneous logins with the same one-time code: exactly one succeeds', async () => {
    const u = await createUser(a, { username: 'race', password: 'race main password' });
    const { codes } = await createOneTimeList(a, { userId: u.id, count: 10, services: ['web', 'imap'] });
    const code = codes[4]!.code;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        authenticate(i % 2 ? a : b, { username: 'race', secret: code, service: i % 3 ? 'web' : 'imap', ip: `10.0.${i}.1` }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await listAltLogins(a, u.id))[0]).toMatchObject({ remainingCodes: 9 });
  });

  async function cachedOnB(username: string, secret: string) {
    const r = await authenticate(b, { username, secret, service: 'imap', ip: '10.1.0.1' });
    expect(r.ok).toBe(true);
    const cache = getAuthCache(b);
    const userId = (r as { userId: number }).userId;
    const generation = cache.generation(userId);
    return {
      /** Milliseconds until instance B has dropped the user's cached logins. */
      async droppedWithin(limitMs: number) {
        const start = Date.now();
        while (cache.generation(userId) === generation && Date.now() - start < limitMs) await new Promise((r) => setTimeout(r, 5));
        return Date.now() - start;
      },
      again: () => authenticate(b, { username, secret, service: 'imap', ip: '10.1.0.1' }),
    };
  }

  it('a password changed on one instance ends cached logins on another within a second', async () => {
    const u = await createUser(a, { username: 'moved', password: 'old main password' });
    const on = await cachedOnB('moved', 'old main password');
    await setPassword(a, { userId: u.id, password: 'new main password' });
    expect(await on.droppedWithin(1000)).toBeLessThan(1000);
    expect(await on.again()).toMatchObject({ ok: false });
  });

  it('a login revoked on one instance stops working on another within a second', async () => {
    const u = await createUser(a, { username: 'revoked', password: 'revoked main password' });
    const { login, secret } = await createAppPassword(a, { userId: u.id });
    const on = await cachedOnB('revoked', secret);
    await revokeAltLogin(a, { loginId: login.id, userId: u.id });
    expect(await on.droppedWithin(1000)).toBeLessThan(1000);
    expect(await on.again()).toMatchObject({ ok: false });
  });

  it('a user disabled on one instance is logged out of the other within a second', async () => {
    const u = await createUser(a, { username: 'disabled', password: 'disabled main password' });
    const on = await cachedOnB('disabled', 'disabled main password');
    await setUserDisabled(a, { userId: u.id, disabled: true });
    expect(await on.droppedWithin(1000)).toBeLessThan(1000);
    expect(await on.again()).toMatchObject({ ok: false });
  });
});
