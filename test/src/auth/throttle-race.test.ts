// Reserve-then-settle throttling under concurrency, on real PostgreSQL (several connections): a burst is
// throttled exactly like the same attempts one after another, and the burst cannot lock the owner out.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { THROTTLE_POLICIES, UNDER_ATTACK_TRIES_PER_ADDRESS } from '../../../src/auth/throttle.js';
import type { AuthResult } from '../../../src/auth/types.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { withCountingHasher, type CountingHasher } from './fixtures.js';

describe('throttling a concurrent burst', () => {
  let base: TestContext;
  let ctx: TestContext & { hasher: CountingHasher };
  beforeAll(async () => {
    // A queue wide enough that only the throttle limits the burst.
    base = await createTestContext({ forcePostgres: true, env: { AUTH_VERIFY_PER_ADDRESS: '1000', AUTH_VERIFY_QUEUE: '1000' } });
    expect(base.testDb.driver).toBe('postgres');
    ctx = withCountingHasher(base);
    await createUser(ctx, { username: 'victim', password: 'the owner password' });
  });
  afterAll(() => base.close());

  const burst = async (n: number, make: (i: number) => { username: string; secret: string; ip: string }) => {
    const before = ctx.hasher.verifications;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => authenticate(ctx, { ...make(i), service: 'imap' })));
    return { results, verified: ctx.hasher.verifications - before };
  };
  const count = (results: AuthResult[], reason: string) => results.filter((r) => !r.ok && r.reason === reason).length;

  it('100 concurrent wrong logins from one address at one account: exactly the sequential allowance is verified', async () => {
    const { results, verified } = await burst(100, (i) => ({ username: 'victim', secret: `guess ${i}`, ip: '203.0.113.5' }));
    // Sequentially: 5 free failures, the 6th sets a 2 s delay, the 7th is refused.
    const allowed = THROTTLE_POLICIES.pair.freeFailures + 1;
    expect(verified).toBe(allowed);
    expect(count(results, 'failed')).toBe(allowed);
    expect(count(results, 'throttled')).toBe(100 - allowed);
  });

  it('after a few sequential guesses, 100 concurrent ones get exactly one more verification', async () => {
    // Another account (the first burst put 'victim' near "under attack"). 6 guesses, then the delay passes,
    // as it does for a patient guesser; the next one is the 7th, which sets a 4 s delay.
    for (let i = 0; i < 6; i++) await authenticate(ctx, { username: 'patient', secret: `slow ${i}`, service: 'imap', ip: '203.0.113.6' });
    await ctx.db.execute(sql`update throttle set blocked_until = null where key = 'pair:patient|203.0.113.6'`);
    const { results, verified } = await burst(100, (i) => ({ username: 'patient', secret: `fast ${i}`, ip: '203.0.113.6' }));
    expect(verified).toBe(1);
    expect(count(results, 'throttled')).toBe(99);
  });

  it('100 concurrent logins from one address at 100 accounts: exactly the address allowance is verified', async () => {
    const { results, verified } = await burst(100, (i) => ({ username: `stuffed${i}`, secret: 'password1', ip: '203.0.113.77' }));
    const allowed = THROTTLE_POLICIES.ip.freeFailures + 1;
    expect(verified).toBe(allowed);
    expect(count(results, 'throttled')).toBe(100 - allowed);
  });

  it('during a botnet attack the owner gets in from a known address and from a new one', async () => {
    await createUser(ctx, { username: 'owner', password: 'owner secret words' });
    // The owner's phone logged in from B before.
    expect((await authenticate(ctx, { username: 'owner', secret: 'owner secret words', service: 'imap', ip: '198.51.100.2' })).ok).toBe(true);
    // Attacker burst from A, then 40 botnet addresses, 5 concurrent guesses each.
    await burst(100, (i) => ({ username: 'owner', secret: `a ${i}`, ip: '203.0.113.1' }));
    const botnet = await burst(200, (i) => ({ username: 'owner', secret: `b ${i}`, ip: `100.64.${i % 40}.9` }));
    // Under attack, each unknown address gets its small budget and no more.
    expect(botnet.verified).toBeLessThanOrEqual(40 * UNDER_ATTACK_TRIES_PER_ADDRESS);
    expect(count(botnet.results, 'throttled')).toBeGreaterThanOrEqual(200 - 40 * UNDER_ATTACK_TRIES_PER_ADDRESS);
    // An attacker's address that spent its budget is refused, even with the right password.
    expect(await authenticate(ctx, { username: 'owner', secret: 'owner secret words', service: 'imap', ip: '100.64.3.9' })).toMatchObject({ ok: false, reason: 'throttled' });
    // The owner: from B at once; from a new address C (the kiosk) even after a typo.
    expect(await authenticate(ctx, { username: 'owner', secret: 'owner secret words', service: 'imap', ip: '198.51.100.2' })).toMatchObject({ ok: true });
    expect(await authenticate(ctx, { username: 'owner', secret: 'owner secret wrods', service: 'web', ip: '192.0.2.99' })).toMatchObject({ ok: false, reason: 'failed' });
    expect(await authenticate(ctx, { username: 'owner', secret: 'owner secret words', service: 'web', ip: '192.0.2.99' })).toMatchObject({ ok: true });
  });
});
