import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../../src/audit.js';
import {
  ACCOUNT_UNDER_ATTACK_FAILURES,
  THROTTLE_POLICIES,
  UNDER_ATTACK_TRIES_PER_ADDRESS,
  checkThrottle,
  recordFailure,
  recordSuccess,
  throttleAddress,
} from '../../../src/auth/throttle.js';
import { throttle } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('throttle', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  const fail = (username: string, ip: string, times: number) =>
    (async () => {
      for (let i = 0; i < times; i++) await recordFailure(ctx, { username, ip });
    })();

  it('lets the first few failures from one address through, then imposes a growing delay', async () => {
    await fail('alice', '198.51.100.1', 5);
    expect((await checkThrottle(ctx, { username: 'alice', ip: '198.51.100.1', userId: null })).blocked).toBe(false);
    await fail('alice', '198.51.100.1', 1);
    const first = await checkThrottle(ctx, { username: 'alice', ip: '198.51.100.1', userId: null });
    expect(first.blocked).toBe(true);
    await fail('alice', '198.51.100.1', 3);
    const later = await checkThrottle(ctx, { username: 'alice', ip: '198.51.100.1', userId: null });
    expect(later.retryAfterSeconds).toBeGreaterThan(first.retryAfterSeconds);
  });

  it("does not block the account owner on another address because of a guesser's failures", async () => {
    await fail('bob', '203.0.113.9', 9);
    expect((await checkThrottle(ctx, { username: 'bob', ip: '203.0.113.9', userId: null })).blocked).toBe(true);
    expect((await checkThrottle(ctx, { username: 'bob', ip: '192.0.2.44', userId: null })).blocked).toBe(false);
  });

  it('a success clears the pair counter for that address', async () => {
    await recordSuccess(ctx, { username: 'alice', ip: '198.51.100.1' });
    expect((await checkThrottle(ctx, { username: 'alice', ip: '198.51.100.1', userId: null })).blocked).toBe(false);
  });

  it('an account under attack gives each unknown address 3 tries a day and never blocks known addresses', async () => {
    // A botnet has failed 100 times on carol's account, each failure from another address.
    await ctx.db.insert(throttle).values({ key: 'user:carol', failures: 100 });
    // A new address (the owner at a hotel kiosk) still gets its own tries, and only those.
    for (let i = 0; i < UNDER_ATTACK_TRIES_PER_ADDRESS; i++) {
      expect((await checkThrottle(ctx, { username: 'carol', ip: '192.0.2.200', userId: 42 })).blocked).toBe(false);
      await recordFailure(ctx, { username: 'carol', ip: '192.0.2.200' });
    }
    const stranger = await checkThrottle(ctx, { username: 'carol', ip: '192.0.2.200', userId: 42 });
    expect(stranger.blocked).toBe(true);
    expect(stranger.retryAfterSeconds).toBeGreaterThan(23 * 3600);
    // Another new address is not affected by that one's failures.
    expect((await checkThrottle(ctx, { username: 'carol', ip: '192.0.2.201', userId: 42 })).blocked).toBe(false);
    // An address the owner logged in from before has no such budget.
    await audit(ctx.db, { event: 'login.succeeded', userId: 42, ip: '192.0.2.7', service: 'web' });
    for (let i = 0; i < 4; i++) await recordFailure(ctx, { username: 'carol', ip: '192.0.2.7' });
    expect((await checkThrottle(ctx, { username: 'carol', ip: '192.0.2.7', userId: 42 })).blocked).toBe(false);
    expect(ACCOUNT_UNDER_ATTACK_FAILURES).toBeLessThanOrEqual(100);
  });

  it('never blocks for ever, and more failures never shorten the delay (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 1000 }), (n, more) => {
        for (const p of Object.values(THROTTLE_POLICIES)) {
          expect(p.delaySeconds(n)).toBeLessThanOrEqual(3600);
          expect(p.delaySeconds(n + more)).toBeGreaterThanOrEqual(p.delaySeconds(n));
        }
      }),
    );
  });

  it('counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(throttleAddress('2001:db8:1:2:aaaa::1')).toBe(throttleAddress('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(throttleAddress('2001:db8:1:2::1')).not.toBe(throttleAddress('2001:db8:1:3::1'));
    expect(throttleAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleAddress('::1')).toBe('0:0:0:0::/64');
  });
});
