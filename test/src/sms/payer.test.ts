import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCreditAccount, getCreditBalance } from '../../../src/credits/accounts.js';
import { listLedgerEntries } from '../../../src/credits/ledger.js';
import { isPosternError } from '../../../src/errors.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { describeSmsPayment } from '../../../src/sms/payer.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createGroup, createSmsUser, fund, joinGroup, setAllowSms } from './fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ env: { SMS_COOLDOWN_SECONDS: '0' } });
});
afterAll(() => ctx.close());

async function member(options: { allowSms: boolean; groupCredits: number; personalCredits: number; name?: string }) {
  const group = await createGroup(ctx, { allowSms: options.allowSms, name: options.name });
  const groupAccountId =
    options.groupCredits > 0 ? await fund(ctx, { groupId: group.id }, options.groupCredits) : (await ensureCreditAccount(ctx.db, { groupId: group.id })).id;
  const u = await createSmsUser(ctx);
  await joinGroup(ctx, group.id, u.userId);
  if (options.personalCredits > 0) await fund(ctx, { userId: u.userId }, options.personalCredits);
  return { group, groupAccountId, ...u };
}

describe('who pays for an SMS code', () => {
  it('charges the group when it allows SMS logins, and the ledger names the member', async () => {
    const m = await member({ allowSms: true, groupCredits: 5, personalCredits: 2 });
    await sendLoginCode(ctx, { ...m, code: '111111' });
    expect(await getCreditBalance(ctx.db, { groupId: m.group.id })).toBe(4);
    expect(await getCreditBalance(ctx.db, { userId: m.userId })).toBe(2);
    const { entries } = await listLedgerEntries(ctx.db, { accountId: m.groupAccountId, kinds: ['sms_debit'] });
    expect(entries[0]).toMatchObject({ delta: -1, balanceAfter: 4, userId: m.userId, username: m.username });
  });

  it('charges the member personally once the preference is turned off', async () => {
    const m = await member({ allowSms: true, groupCredits: 5, personalCredits: 2 });
    await setAllowSms(ctx, m.group.id, false);
    await sendLoginCode(ctx, { ...m, code: '222222' });
    expect(await getCreditBalance(ctx.db, { groupId: m.group.id })).toBe(5);
    expect(await getCreditBalance(ctx.db, { userId: m.userId })).toBe(1);
  });

  it('falls back to personal credits when the group has run out', async () => {
    const m = await member({ allowSms: true, groupCredits: 0, personalCredits: 1 });
    await sendLoginCode(ctx, { ...m, code: '333333' });
    expect(await getCreditBalance(ctx.db, { userId: m.userId })).toBe(0);
  });

  it('explains that the group has no credits when neither can pay', async () => {
    const m = await member({ allowSms: true, groupCredits: 0, personalCredits: 0, name: 'Acme Ltd' });
    const error = await sendLoginCode(ctx, { ...m, code: '444444' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_NO_CREDITS')).toBe(true);
    expect(error.userMessage).toMatch(/Acme Ltd has no SMS credits left.*administrator of Acme Ltd/);
  });

  it('tells a member that their group does not pay when the preference is off and they have no credits', async () => {
    const m = await member({ allowSms: false, groupCredits: 10, personalCredits: 0, name: 'Smith Family' });
    const error = await sendLoginCode(ctx, { ...m, code: '555555' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_NO_CREDITS')).toBe(true);
    expect(error.userMessage).toMatch(/not paid by Smith Family/);
    expect(await getCreditBalance(ctx.db, { groupId: m.group.id })).toBe(10);
  });

  it('tells a member who pays for their next code without revealing the group balance', async () => {
    const m = await member({ allowSms: true, groupCredits: 7, personalCredits: 1, name: 'Jones Family' });
    expect(await describeSmsPayment(ctx.db, m.userId)).toEqual({
      payer: 'group',
      group: { name: 'Jones Family', allowSms: true, hasCredits: true },
      personalBalance: 1,
    });
    await setAllowSms(ctx, m.group.id, false);
    expect((await describeSmsPayment(ctx.db, m.userId)).payer).toBe('personal');
    const loner = await createSmsUser(ctx);
    expect(await describeSmsPayment(ctx.db, loner.userId)).toEqual({ payer: 'none', group: null, personalBalance: 0 });
  });
});
