// Runs on real PostgreSQL whatever DATABASE_URL says: PGlite has one connection, so it cannot show a race.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCreditAccount, getCreditBalance } from '../../../src/credits/accounts.js';
import { grantCredits } from '../../../src/credits/grant.js';
import { applyCreditChange, checkLedgerConsistency, listLedgerEntries } from '../../../src/credits/ledger.js';
import { purchaseCredits } from '../../../src/credits/purchases.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createGroup } from '../sms/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ forcePostgres: true });
});
afterAll(() => ctx.close());

describe('credits under concurrency (PostgreSQL)', () => {
  it('lets exactly 10 of 100 simultaneous one-credit debits through a balance of 10', async () => {
    expect(ctx.database.driver).toBe('postgres');
    const group = await createGroup(ctx, { allowSms: true });
    await grantCredits(ctx, { owner: { groupId: group.id }, credits: 10 });
    const account = await ensureCreditAccount(ctx.db, { groupId: group.id });
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: -1, kind: 'adjustment' })),
      ),
    );
    expect(results.filter((b) => b !== null)).toHaveLength(10);
    expect(await checkLedgerConsistency(ctx.db, account.id)).toEqual({ balance: 0, ledgerSum: 0, consistent: true });
  });

  it('buys once when the same form is submitted 20 times at the same moment', async () => {
    const group = await createGroup(ctx, { allowSms: true });
    const key = crypto.randomBytes(16).toString('base64url');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => purchaseCredits(ctx, { owner: { groupId: group.id }, credits: 200, idempotencyKey: key })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.every((r) => r.order.status === 'paid' && r.balance === 200)).toBe(true);
    expect(await getCreditBalance(ctx.db, { groupId: group.id })).toBe(200);
    const account = await ensureCreditAccount(ctx.db, { groupId: group.id });
    expect((await listLedgerEntries(ctx.db, { accountId: account.id, kinds: ['purchase'] })).total).toBe(1);
  });
});
