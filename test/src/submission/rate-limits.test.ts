/** The hourly sending ledger under concurrency: parallel submissions cannot all slip under the cap. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { releaseSubmission, reserveSubmission } from '../../../src/submission/rate-limits.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ env: { SEND_MAX_MESSAGES_PER_HOUR: '3', SEND_MAX_MESSAGES_PER_HOUR_PER_LOGIN: '3' } });
});

afterAll(async () => {
  await ctx?.close();
});

describe('reserveSubmission', () => {
  it('lets exactly the hourly cap through when 12 connections send at once', async () => {
    const user = await createUser(ctx, { username: 'racer', password: 'racer-password' });
    const results = await Promise.all(Array.from({ length: 12 }, () => reserveSubmission(ctx, { userId: user.id, loginId: null, restricted: false }, 1)));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual(Array(9).fill('SEND_RATE_LIMITED'));
  });

  it('gives the place back when a message was not sent, and counts an hour, not forever', async () => {
    const user = await createUser(ctx, { username: 'retrier', password: 'retrier-password' });
    const sender = { userId: user.id, loginId: null, restricted: false };
    const places = [];
    for (let i = 0; i < 3; i++) places.push(await reserveSubmission(ctx, sender, 1));
    expect((await reserveSubmission(ctx, sender, 1)).ok).toBe(false);
    await releaseSubmission(ctx, (places[0] as { id: number }).id);
    expect((await reserveSubmission(ctx, sender, 1)).ok).toBe(true);
    const later = { ...ctx, clock: () => new Date(Date.now() + 61 * 60_000) };
    expect((await reserveSubmission(later, sender, 1)).ok).toBe(true);
  });
});
