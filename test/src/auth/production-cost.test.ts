// The few tests that run argon2id at production cost (RFC 9106 second recommendation), on purpose.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { PRODUCTION_ARGON2, PasswordHasher } from '../../../src/auth/passwords.js';
import { users } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('at production argon2 cost', () => {
  let cheap: TestContext;
  let ctx: TestContext;
  beforeAll(async () => {
    cheap = await createTestContext();
    ctx = { ...cheap, hasher: new PasswordHasher(PRODUCTION_ARGON2) };
  });
  afterAll(() => cheap.close());

  it('a hash made at a lower cost is upgraded on the next successful login', async () => {
    const u = await createUser(cheap, { username: 'legacy', password: 'legacy password' });
    expect(ctx.hasher.needsRehash(u.passwordHash!)).toBe(true);
    expect(await authenticate(ctx, { username: 'legacy', secret: 'legacy password', service: 'web', ip: '192.0.2.1' })).toMatchObject({ ok: true });
    const [after] = await ctx.db.select().from(users).where(eq(users.id, u.id));
    expect(after!.passwordHash).not.toBe(u.passwordHash);
    expect(after!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    expect(ctx.hasher.needsRehash(after!.passwordHash!)).toBe(false);
    expect(await authenticate(ctx, { username: 'legacy', secret: 'legacy password', service: 'web', ip: '192.0.2.1' })).toMatchObject({ ok: true });
  });

  it('unknown-user and wrong-password failures take the same time within noise', async () => {
    await createUser(ctx, { username: 'timed', password: 'timed password' });
    let ip = 10;
    const time = async (username: string) => {
      const start = process.hrtime.bigint();
      const r = await authenticate(ctx, { username, secret: 'not the password', service: 'web', ip: `203.0.113.${ip++}` });
      expect(r).toEqual({ ok: false, reason: 'failed' });
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await time('nobody-here');
    await time('timed');
    const unknown: number[] = [];
    const wrong: number[] = [];
    // Twelve rounds: the other test worker shares the two cores, and the fastest of seven still wandered by ~30 ms.
    for (let i = 0; i < 12; i++) {
      unknown.push(await time(`nobody-${i}`));
      wrong.push(await time('timed'));
    }
    // The fastest of each: what the path itself costs, without the other test files that share the CPU
    // (medians of a loaded 2-core machine drifted 50 ms apart). A path that skipped argon2 would still be
    // ~100 ms faster at its fastest.
    const [mu, mw] = [Math.min(...unknown), Math.min(...wrong)];
    // Both pay one argon2 verification (~100+ ms); the database work differs by well under a few ms.
    expect(Math.min(mu, mw)).toBeGreaterThan(40);
    expect(Math.abs(mu - mw)).toBeLessThan(Math.max(25, 0.2 * Math.max(mu, mw)));
  });
});
