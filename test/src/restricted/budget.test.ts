import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { SessionBudget, addedToday, refundAddedBytes, reserveAddedBytes } from '../../../src/restricted/budget.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

const MiB = 1024 * 1024;

async function owner(ctx: TestContext) {
  const user = await createUser(ctx, { username: `b${crypto.randomBytes(5).toString('hex')}`, password: 'budget-password-1', mobile: '+33612345678' });
  return { userId: user.id, loginId: 7 };
}

describe.each([{ forcePostgres: false }, { forcePostgres: true }])('what a restricted session may add (postgres forced: $forcePostgres)', ({ forcePostgres }) => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ forcePostgres });
  });
  afterAll(() => ctx.close());

  it('grants up to the session limit, then refuses with OVERQUOTA; the day counts every session', async () => {
    const who = await owner(ctx);
    const limits = { sessionBytes: 3 * MiB, dailyBytes: 5 * MiB };
    const first = new SessionBudget(limits);
    for (let i = 0; i < 3; i++) expect(await reserveAddedBytes(ctx.db, who, first, MiB)).toBeNull();
    expect(await reserveAddedBytes(ctx.db, who, first, 1)).toMatchObject({ code: 'OVERQUOTA', reason: 'restricted.budget-session' });
    const second = new SessionBudget(limits);
    expect(await reserveAddedBytes(ctx.db, who, second, 2 * MiB)).toBeNull();
    expect(await reserveAddedBytes(ctx.db, who, second, 1)).toMatchObject({ code: 'OVERQUOTA', reason: 'restricted.budget-day' });
    // A refused day reservation does not use up the session's share.
    expect(second.usedBytes).toBe(2 * MiB);
    expect(await addedToday(ctx.db, who)).toBe(5 * MiB);
    // Another login of the same user has its own day.
    expect(await reserveAddedBytes(ctx.db, { ...who, loginId: 8 }, new SessionBudget(limits), MiB)).toBeNull();
  });

  it('refuses one addition larger than a limit, and nonsense sizes', async () => {
    const who = await owner(ctx);
    const budget = new SessionBudget({ sessionBytes: 10 * MiB, dailyBytes: 2 * MiB });
    expect(await reserveAddedBytes(ctx.db, who, budget, 3 * MiB)).toMatchObject({ code: 'OVERQUOTA' });
    expect(await reserveAddedBytes(ctx.db, who, budget, -1)).toMatchObject({ code: 'OVERQUOTA' });
    expect(await reserveAddedBytes(ctx.db, who, budget, 0.5)).toMatchObject({ code: 'OVERQUOTA' });
    expect(await addedToday(ctx.db, who)).toBe(0);
  });

  it('gives back a cancelled addition to the session and the day, never below zero', async () => {
    const who = await owner(ctx);
    const limits = { sessionBytes: 3 * MiB, dailyBytes: 3 * MiB };
    const budget = new SessionBudget(limits);
    expect(await reserveAddedBytes(ctx.db, who, budget, 2 * MiB)).toBeNull();
    expect(await reserveAddedBytes(ctx.db, who, budget, 2 * MiB)).toMatchObject({ code: 'OVERQUOTA' });
    await refundAddedBytes(ctx.db, who, budget, 2 * MiB);
    expect(budget.usedBytes).toBe(0);
    expect(await addedToday(ctx.db, who)).toBe(0);
    expect(await reserveAddedBytes(ctx.db, who, budget, 3 * MiB)).toBeNull();
    // Another session's refund cannot push the day below zero, and nonsense sizes change nothing.
    await refundAddedBytes(ctx.db, who, new SessionBudget(limits), 5 * MiB);
    expect(await addedToday(ctx.db, who)).toBe(0);
    await refundAddedBytes(ctx.db, who, budget, -1);
    expect(budget.usedBytes).toBe(3 * MiB);
  });

  it('lets exactly the day limit through 40 simultaneous reservations from separate sessions', async () => {
    const who = await owner(ctx);
    const limits = { sessionBytes: 10 * MiB, dailyBytes: 5 * MiB };
    const results = await Promise.all(Array.from({ length: 40 }, () => reserveAddedBytes(ctx.db, who, new SessionBudget(limits), MiB)));
    expect(results.filter((r) => r === null)).toHaveLength(5);
    expect(await addedToday(ctx.db, who)).toBe(5 * MiB);
  });
});
