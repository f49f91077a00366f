import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { ensureCreditAccount, getCreditBalance } from '../../../src/credits/accounts.js';
import { grantCredits } from '../../../src/credits/grant.js';
import { applyCreditChange, checkLedgerConsistency, listLedgerEntries, summariseSmsUsage } from '../../../src/credits/ledger.js';
import { creditAccounts } from '../../../src/db/schema.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createGroup, createSmsUser, joinGroup } from '../sms/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ env: { SMS_COOLDOWN_SECONDS: '0' } });
});
afterAll(() => ctx.close());

describe('credit ledger', () => {
  it('refuses a debit larger than the balance and writes nothing', async () => {
    const u = await createSmsUser(ctx);
    const account = await ensureCreditAccount(ctx.db, { userId: u.userId });
    await grantCredits(ctx, { owner: { userId: u.userId }, credits: 2 });
    const result = await ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: -3, kind: 'adjustment' }));
    expect(result).toBeNull();
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(2);
    expect((await listLedgerEntries(ctx.db, { accountId: account.id })).total).toBe(1);
  });

  it('lets an operator grant credits with a reason and audits it', async () => {
    const u = await createSmsUser(ctx);
    const operator = await createSmsUser(ctx);
    expect(await grantCredits(ctx, { owner: { userId: u.userId }, credits: 25, reason: 'goodwill', actorUserId: operator.userId })).toBe(25);
    const account = await ensureCreditAccount(ctx.db, { userId: u.userId });
    const { entries } = await listLedgerEntries(ctx.db, { accountId: account.id });
    expect(entries[0]).toMatchObject({ kind: 'adjustment', delta: 25, balanceAfter: 25, reason: 'goodwill', actorUsername: operator.username });
    const [event] = await listAuditEvents(ctx.db, { userId: u.userId, events: ['credits.changed'] });
    expect(event).toMatchObject({ actorUserId: operator.userId, details: { change: 'adjustment', credits: 25, balance: 25 } });
  });

  it('refuses to remove more credits than there are, naming the balance', async () => {
    const u = await createSmsUser(ctx);
    await grantCredits(ctx, { owner: { userId: u.userId }, credits: 3 });
    await expect(grantCredits(ctx, { owner: { userId: u.userId }, credits: -5 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      userMessage: 'Cannot remove 5 credits: the balance is only 3.',
    });
    expect(await grantCredits(ctx, { owner: { userId: u.userId }, credits: -3 })).toBe(0);
  });

  it('pages the group ledger newest first and filters it by member and by type', async () => {
    const group = await createGroup(ctx, { allowSms: true });
    await grantCredits(ctx, { owner: { groupId: group.id }, credits: 10 });
    const alice = await createSmsUser(ctx);
    const bob = await createSmsUser(ctx);
    await joinGroup(ctx, group.id, alice.userId);
    await joinGroup(ctx, group.id, bob.userId);
    await sendLoginCode(ctx, { ...alice, code: '111111' });
    await sendLoginCode(ctx, { ...alice, code: '222222' });
    await sendLoginCode(ctx, { ...bob, code: '333333' });
    const account = await ensureCreditAccount(ctx.db, { groupId: group.id });

    const page1 = await listLedgerEntries(ctx.db, { accountId: account.id, limit: 2 });
    expect(page1.total).toBe(4);
    expect(page1.entries.map((e) => e.username)).toEqual([bob.username, alice.username]);
    const page2 = await listLedgerEntries(ctx.db, { accountId: account.id, limit: 2, offset: 2 });
    expect(page2.entries.map((e) => e.kind)).toEqual(['sms_debit', 'adjustment']);
    expect((await listLedgerEntries(ctx.db, { accountId: account.id, userId: alice.userId })).total).toBe(2);
    expect((await listLedgerEntries(ctx.db, { accountId: account.id, kinds: ['adjustment'] })).total).toBe(1);

    const usage = await summariseSmsUsage(ctx.db, account.id);
    expect(usage.map(({ username, credits }) => ({ username, credits })).sort((a, b) => b.credits - a.credits)).toEqual([
      { username: alice.username, credits: 2 },
      { username: bob.username, credits: 1 },
    ]);
  });

  it('detects a balance that no longer matches its ledger', async () => {
    const u = await createSmsUser(ctx);
    await grantCredits(ctx, { owner: { userId: u.userId }, credits: 4 });
    const account = await ensureCreditAccount(ctx.db, { userId: u.userId });
    expect(await checkLedgerConsistency(ctx.db, account.id)).toEqual({ balance: 4, ledgerSum: 4, consistent: true });
    await ctx.db.update(creditAccounts).set({ balance: 40 }).where(eq(creditAccounts.id, account.id));
    expect(await checkLedgerConsistency(ctx.db, account.id)).toEqual({ balance: 40, ledgerSum: 4, consistent: false });
  });
});
