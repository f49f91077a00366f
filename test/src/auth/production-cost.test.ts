// The few tests that run argon2id at production cost (RFC 9106 second recommendation), on purpose.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { PRODUCTION_ARGON2, PasswordHasher } from '../../../src/auth/passwords.js';
import { users } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { CountingHasher, PRODUCTION_PARAMS } from '../../helpers/counting-hasher.js';

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

  it('unknown-user and wrong-password failures pay the same argon2 work: one verification at production cost', async () => {
    // The exact claim, counted rather than timed: a wall clock on a shared 2-core machine cannot tell
    // 130 ms from 130 ms apart within the few milliseconds that matter, but it can be fooled by a
    // neighbour. Timing is still checked coarsely below.
    const hasher = new CountingHasher();
    const counting = { ...cheap, hasher };
    await createUser(counting, { username: 'counted', password: 'counted password' });
    const cost = (username: string, ip: string) =>
      hasher.during(async () => {
        const r = await authenticate(counting, { username, secret: 'not the password', service: 'web', ip });
        expect(r).toEqual({ ok: false, reason: 'failed' });
      });
    expect(await cost('nobody-counted', '203.0.113.200')).toEqual([PRODUCTION_PARAMS]);
    expect(await cost('counted', '203.0.113.201')).toEqual([PRODUCTION_PARAMS]);
  });

  it('unknown-user and wrong-password failures take the same time, coarsely', async () => {
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
    for (let i = 0; i < 8; i++) {
      unknown.push(await time(`nobody-${i}`));
      wrong.push(await time('timed'));
    }
    // The fastest of each: what the path itself costs, without the other test files that share the CPU.
    // A path that skipped argon2 would take a few milliseconds against 100+: the bound catches that,
    // and leaves room for the tens of milliseconds a loaded CI machine adds to one side now and then
    // (the exact equality is the counting test above).
    const [mu, mw] = [Math.min(...unknown), Math.min(...wrong)];
    expect(Math.min(mu, mw)).toBeGreaterThan(40);
    expect(Math.min(mu, mw) / Math.max(mu, mw)).toBeGreaterThan(0.5);
  }, 120_000);
});
