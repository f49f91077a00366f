import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthCache } from '../../../src/auth/auth-cache.js';
import type { AuthSuccess } from '../../../src/auth/types.js';
import { openDatabase, type Database } from '../../../src/db/client.js';

let database: Database;
beforeAll(async () => {
  database = await openDatabase({});
});
afterAll(() => database.close());

const success = (userId: number) => ({ ok: true, userId }) as unknown as AuthSuccess;

describe('AuthCache.clear (after a LISTEN reconnect)', () => {
  it('forgets every entry, and a login that was verifying meanwhile cannot cache its success', () => {
    const cache = new AuthCache(database);
    cache.set('a', success(1), cache.generation(1));
    const inFlight = cache.generation(2);
    expect(cache.get('a')).not.toBeNull();
    cache.clear();
    expect(cache.get('a')).toBeNull();
    expect(cache.size).toBe(0);
    cache.set('b', success(2), inFlight);
    expect(cache.get('b')).toBeNull();
    // Logins verified after the clear are cached again.
    cache.set('c', success(2), cache.generation(2));
    expect(cache.get('c')).not.toBeNull();
  });

  it('a user dropped after a clear still invalidates that user only', () => {
    const cache = new AuthCache(database);
    cache.clear();
    const g1 = cache.generation(1);
    const g2 = cache.generation(2);
    cache.dropUser(1);
    cache.set('x', success(1), g1);
    cache.set('y', success(2), g2);
    expect(cache.get('x')).toBeNull();
    expect(cache.get('y')).not.toBeNull();
  });
});
