// The web's second-step code forms (SMS code, authenticator-app code) under concurrency, on whichever
// database the run uses (CI: PostgreSQL and PGlite): each submission is counted by the throttle before its
// code is checked (reserve, then settle), so 50 concurrent wrong codes are throttled exactly like 50 sent
// one after another.
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTotpLogin, createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { SMS_CODE_MAX_ATTEMPTS, verifySmsChallenge } from '../../../src/auth/sms-challenges.js';
import { THROTTLE_POLICIES } from '../../../src/auth/throttle.js';
import { hotp, timeStep } from '../../../src/auth/totp.js';
import { verifyTotpStep } from '../../../src/auth/totp-logins.js';
import type { AuthResult } from '../../../src/auth/types.js';
import { smsChallenges } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { grantPersonalCredits, lastSmsCode } from './fixtures.js';

const AT = new Date(1_900_000_015_000);
/** Sequentially: 5 free failures, the 6th sets a 2 s delay, the 7th is refused. */
const ALLOWED = THROTTLE_POLICIES.pair.freeFailures + 1;
const BURST = 50;

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ env: { AUTH_VERIFY_PER_ADDRESS: '1000', AUTH_VERIFY_QUEUE: '1000' } });
  ctx.clock = () => AT;
});
afterAll(() => ctx.close());

const count = (results: AuthResult[], reason: string) => results.filter((r) => !r.ok && r.reason === reason).length;

describe('concurrent wrong codes', () => {
  it(`SMS code page: ${BURST} at once from one address, only the sequential allowance is checked`, async () => {
    const user = await createUser(ctx, { username: 'smsrace', password: 'main password!', mobile: '+447911123456' });
    await createUserChosenLogin(ctx, { userId: user.id, kind: 'sms', secret: 'sms password', restricted: true });
    await grantPersonalCredits(ctx, user.id, 10);
    const ip = '203.0.113.40';
    const started = await authenticate(ctx, { username: 'smsrace', secret: 'sms password', service: 'web', ip });
    expect(started).toMatchObject({ ok: false, reason: 'sms-required' });
    const challengeId = (started as Extract<AuthResult, { reason: 'sms-required' }>).challengeId;
    const right = await lastSmsCode(ctx);
    const wrong = (i: number) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0');
    const results = await Promise.all(Array.from({ length: BURST }, (_, i) => verifySmsChallenge(ctx, { challengeId, code: wrong(i), ip, service: 'web' })));
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(count(results, 'failed')).toBe(ALLOWED);
    expect(count(results, 'throttled')).toBe(BURST - ALLOWED);
    // The challenge's own cap held too.
    const [row] = await ctx.db.select().from(smsChallenges).where(eq(smsChallenges.id, challengeId));
    expect(row!.attempts).toBeLessThanOrEqual(SMS_CODE_MAX_ATTEMPTS);
  });

  it(`authenticator-app code page: ${BURST} at once from one address, only the sequential allowance is checked`, async () => {
    const user = await createUser(ctx, { username: 'totprace', password: 'main password!' });
    const secret = crypto.randomBytes(20);
    const login = await createTotpLogin(ctx, { userId: user.id, secret: 'phone pass 1', totpSecret: secret });
    const right = hotp(secret, timeStep(AT));
    // Codes of none of the three steps a phone may be on (one behind, now, one ahead).
    const valid = new Set([-1, 0, 1].map((d) => hotp(secret, timeStep(AT) + d)));
    const codes = Array.from({ length: BURST + 3 }, (_, i) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0')).filter((c) => !valid.has(c));
    const wrong = (i: number) => codes[i]!;
    const ip = '203.0.113.41';
    const results = await Promise.all(
      Array.from({ length: BURST }, (_, i) => verifyTotpStep(ctx, { loginId: login.id, lastStep: null, code: wrong(i), ip, service: 'web' })),
    );
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(count(results, 'failed')).toBe(ALLOWED);
    expect(count(results, 'throttled')).toBe(BURST - ALLOWED);
    // The right code from that address now waits like any attempt after the burst; from another it works.
    expect(await verifyTotpStep(ctx, { loginId: login.id, lastStep: null, code: right, ip, service: 'web' })).toMatchObject({ ok: false, reason: 'throttled' });
    expect(await verifyTotpStep(ctx, { loginId: login.id, lastStep: null, code: right, ip: '192.0.2.41', service: 'web' })).toMatchObject({ ok: true, method: 'totp' });
  });
});
