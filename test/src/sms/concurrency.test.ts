// Runs on real PostgreSQL whatever DATABASE_URL says: PGlite has one connection, so it cannot show a race.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { checkLedgerConsistency, listLedgerEntries } from '../../../src/credits/ledger.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { fakeTwilioEnv, startFakeTwilio, type FakeTwilio } from '../../helpers/fake-twilio.js';
import { createGroup, createSmsUser, fund, joinGroup } from './fixtures.js';

let fake: FakeTwilio;
let ctx: TestContext;
beforeAll(async () => {
  fake = await startFakeTwilio();
  ctx = await createTestContext({
    forcePostgres: true,
    // Limits out of the way: this test is about money, not about pumping.
    env: fakeTwilioEnv(fake, { SMS_COOLDOWN_SECONDS: '0', SMS_MAX_PER_USER_PER_HOUR: '1000', SMS_MAX_PER_GROUP_PER_DAY: '1000' }),
  });
});
afterAll(async () => {
  await ctx.close();
  await fake.close();
});

describe('SMS credits under concurrency (PostgreSQL)', () => {
  it('sends exactly 10 of 100 simultaneous codes against a group balance of 10, never overdrawing', async () => {
    expect(ctx.database.driver).toBe('postgres');
    const group = await createGroup(ctx, { allowSms: true });
    const accountId = await fund(ctx, { groupId: group.id }, 10);
    const members = [];
    for (let i = 0; i < 100; i++) {
      const m = await createSmsUser(ctx, { mobile: `+4477009${String(10000 + i).slice(1)}` });
      await joinGroup(ctx, group.id, m.userId);
      members.push(m);
    }
    fake.delayMs = 20; // keep sends in flight while others reserve
    const results = await Promise.allSettled(members.map((m, i) => sendLoginCode(ctx, { ...m, code: String(100000 + i) })));
    fake.delayMs = 0;

    const sent = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(sent).toHaveLength(10);
    expect(new Set(refused.map((r) => r.reason.code))).toEqual(new Set(['SMS_NO_CREDITS']));
    expect(fake.messages).toHaveLength(10);
    expect(await getCreditBalance(ctx.db, { groupId: group.id })).toBe(0);
    expect(await checkLedgerConsistency(ctx.db, accountId)).toEqual({ balance: 0, ledgerSum: 0, consistent: true });
    expect((await listLedgerEntries(ctx.db, { accountId, kinds: ['sms_debit'] })).total).toBe(10);
  });
});
