import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { completeCreditOrder, listCreditPacks, purchaseCredits, type PaymentProvider } from '../../../src/credits/purchases.js';
import { invoices } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createGroup, createSmsUser } from '../sms/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const newKey = () => crypto.randomBytes(16).toString('base64url');

describe('buying SMS credits', () => {
  it('offers the default packs of 50, 200 and 1000 credits with prices', () => {
    expect(listCreditPacks(ctx.config).map((p) => p.credits)).toEqual([50, 200, 1000]);
    expect(listCreditPacks(ctx.config).every((p) => p.amountCents > 0 && p.currency === 'EUR')).toBe(true);
  });

  it('grants a pack at once with the invoice provider and records an invoice and an audit event', async () => {
    const group = await createGroup(ctx, { allowSms: true });
    const admin = await createSmsUser(ctx);
    const result = await purchaseCredits(ctx, { owner: { groupId: group.id }, credits: 200, idempotencyKey: newKey(), actorUserId: admin.userId });
    expect(result).toMatchObject({ created: true, balance: 200, order: { status: 'paid', credits: 200, provider: 'invoice' } });
    const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.orderId, result.order.id));
    expect(invoice).toMatchObject({ credits: 200, amountCents: 1800, currency: 'EUR' });
    const [event] = await listAuditEvents(ctx.db, { groupId: group.id, events: ['credits.changed'] });
    expect(event).toMatchObject({ actorUserId: admin.userId, details: { change: 'purchase', credits: 200 } });
  });

  it('buys once when the same form is submitted twice', async () => {
    const group = await createGroup(ctx, { allowSms: true });
    const key = newKey();
    const first = await purchaseCredits(ctx, { owner: { groupId: group.id }, credits: 50, idempotencyKey: key });
    const second = await purchaseCredits(ctx, { owner: { groupId: group.id }, credits: 50, idempotencyKey: key });
    expect(second).toMatchObject({ created: false, balance: 50, order: { id: first.order.id, status: 'paid' } });
    expect(await getCreditBalance(ctx.db, { groupId: group.id })).toBe(50);
  });

  it('keeps two accounts apart even if their forms carry the same key', async () => {
    const a = await createGroup(ctx, { allowSms: true });
    const b = await createGroup(ctx, { allowSms: true });
    const key = newKey();
    await purchaseCredits(ctx, { owner: { groupId: a.id }, credits: 50, idempotencyKey: key });
    const other = await purchaseCredits(ctx, { owner: { groupId: b.id }, credits: 50, idempotencyKey: key });
    expect(other.created).toBe(true);
    expect(await getCreditBalance(ctx.db, { groupId: b.id })).toBe(50);
  });

  it('refuses a pack that is not on offer and a missing form key', async () => {
    const u = await createSmsUser(ctx);
    await expect(purchaseCredits(ctx, { owner: { userId: u.userId }, credits: 7, idempotencyKey: newKey() })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(purchaseCredits(ctx, { owner: { userId: u.userId }, credits: 50, idempotencyKey: '' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(0);
  });

  it('lets a provider that settles later grant through completeCreditOrder, exactly once', async () => {
    const card: PaymentProvider = {
      name: 'card',
      begin: async () => 'pending',
      checkoutUrl: async (order) => `https://pay.example/checkout/${order.id}`,
    };
    const u = await createSmsUser(ctx);
    const result = await purchaseCredits(ctx, { owner: { userId: u.userId }, credits: 50, idempotencyKey: newKey(), provider: card });
    expect(result).toMatchObject({ created: true, balance: 0, order: { status: 'pending' }, checkoutUrl: `https://pay.example/checkout/${result.order.id}` });
    expect(await completeCreditOrder(ctx.db, result.order.id)).toBe(true);
    expect(await completeCreditOrder(ctx.db, result.order.id)).toBe(false);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(50);
  });
});
