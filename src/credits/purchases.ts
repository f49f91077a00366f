/**
 * Buying SMS credits. A purchase is an order keyed by an idempotency key (one per rendered form), so a
 * double-submitted form buys once: the second submission finds the first order (unique index
 * credit_orders.idempotency_key) and reports it. Payment is a `PaymentProvider`; the ledger does not know
 * which one: every paid order, whatever paid it, goes through `completeCreditOrder`.
 */
import { and, eq } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import type { Config } from '../config.js';
import type { Db, Tx } from '../db/client.js';
import { creditOrders, invoices } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { ensureCreditAccount, getCreditBalance, type CreditOwner } from './accounts.js';
import { applyCreditChange } from './ledger.js';

export type CreditOrder = typeof creditOrders.$inferSelect;

export interface CreditPack {
  credits: number;
  amountCents: number;
  currency: string;
}

/** An order with its price, as a payment provider sees it. */
export interface PricedOrder extends CreditOrder, Omit<CreditPack, 'credits'> {}

/**
 * A way of paying. `begin` runs inside the transaction that creates the order:
 *  - a provider that settles at once (invoice) records its proof in `tx` and returns 'paid'; the credits
 *    are granted in that same transaction, so an order is never paid without its credits;
 *  - a provider that needs the buyer (a card checkout) returns 'pending' and makes its API calls after the
 *    commit (`checkoutUrl`); its webhook later calls `completeCreditOrder` (a declined or abandoned
 *    checkout simply stays pending).
 */
export interface PaymentProvider {
  readonly name: string;
  begin(tx: Tx, order: PricedOrder): Promise<'paid' | 'pending'>;
  checkoutUrl?(order: PricedOrder): Promise<string>;
}

/** Grants at once and records an invoice row for billing at the end of the period. */
export const invoicePaymentProvider: PaymentProvider = {
  name: 'invoice',
  async begin(tx, order) {
    await tx.insert(invoices).values({ orderId: order.id, credits: order.credits, amountCents: order.amountCents, currency: order.currency });
    return 'paid';
  },
};

const providers: Record<Config['PAYMENT_PROVIDER'], PaymentProvider> = { invoice: invoicePaymentProvider };

/** The packs on sale (SMS_CREDIT_PACKS), smallest first. */
export function listCreditPacks(config: Pick<Config, 'SMS_CREDIT_PACKS' | 'SMS_CREDIT_CURRENCY'>): CreditPack[] {
  return config.SMS_CREDIT_PACKS.map((p) => ({ ...p, currency: config.SMS_CREDIT_CURRENCY })).sort((a, b) => a.credits - b.credits);
}

export interface PurchaseResult {
  order: CreditOrder;
  /** False when this submission repeated an earlier one: nothing more was bought. */
  created: boolean;
  /** Balance after the order (the current balance when it repeated one). */
  balance: number;
  /** Where the buyer completes payment, for providers that need it. */
  checkoutUrl?: string;
}

/**
 * Buys a pack for `owner`. The idempotency key comes from the form (a random token rendered into it);
 * it is scoped to the account so one account's key can never match another's order.
 */
export async function purchaseCredits(
  ctx: AppContext,
  input: { owner: CreditOwner; credits: number; idempotencyKey: string; actorUserId?: number | null; provider?: PaymentProvider },
): Promise<PurchaseResult> {
  const pack = listCreditPacks(ctx.config).find((p) => p.credits === input.credits);
  if (!pack) throw new PosternError('INVALID_INPUT', { message: 'Choose one of the SMS credit packs on offer.' });
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(input.idempotencyKey))
    throw new PosternError('INVALID_INPUT', { message: 'The form has expired. Please reload the page and try again.' });
  const provider = input.provider ?? providers[ctx.config.PAYMENT_PROVIDER];
  const account = await ensureCreditAccount(ctx.db, input.owner);
  const key = `${account.id}:${input.idempotencyKey}`;

  const placed = await ctx.db.transaction(async (tx) => {
    // A concurrent twin waits here on the unique index until this transaction ends, then finds the order.
    const [order] = await tx
      .insert(creditOrders)
      .values({ accountId: account.id, idempotencyKey: key, credits: pack.credits, provider: provider.name, status: 'pending', createdBy: input.actorUserId ?? null })
      .onConflictDoNothing({ target: creditOrders.idempotencyKey })
      .returning();
    if (!order) return null;
    const priced: PricedOrder = { ...order, amountCents: pack.amountCents, currency: pack.currency };
    const outcome = await provider.begin(tx, priced);
    const completed = outcome === 'paid' ? await settleOrder(tx, order.id, input.actorUserId ?? null) : null;
    await audit(tx, {
      event: 'credits.changed',
      userId: input.owner.userId ?? null,
      groupId: input.owner.groupId ?? null,
      actorUserId: input.actorUserId,
      details: { change: 'purchase', orderId: order.id, credits: pack.credits, amountCents: pack.amountCents, currency: pack.currency, provider: provider.name, status: outcome },
    });
    return { order: completed?.order ?? order, priced };
  });

  if (!placed) {
    const [existing] = await ctx.db.select().from(creditOrders).where(eq(creditOrders.idempotencyKey, key));
    return { order: existing!, created: false, balance: await getCreditBalance(ctx.db, input.owner) };
  }
  const checkoutUrl = placed.order.status === 'pending' && provider.checkoutUrl ? await provider.checkoutUrl(placed.priced) : undefined;
  return { order: placed.order, created: true, balance: await getCreditBalance(ctx.db, input.owner), checkoutUrl };
}

/** pending → paid plus the ledger entry, in `tx`; null when the order was not pending (already settled). */
async function settleOrder(tx: Tx, orderId: number, actorUserId: number | null): Promise<{ order: CreditOrder; balance: number } | null> {
  const [order] = await tx
    .update(creditOrders)
    .set({ status: 'paid', completedAt: new Date() })
    .where(and(eq(creditOrders.id, orderId), eq(creditOrders.status, 'pending')))
    .returning();
  if (!order) return null;
  const balance = await applyCreditChange(tx, { accountId: order.accountId, delta: order.credits, kind: 'purchase', orderId: order.id, actorUserId, reason: `order ${order.id}` });
  return { order, balance: balance! };
}

/**
 * Marks a pending order paid and grants its credits, for providers that settle later (their webhook calls
 * this). Idempotent: a repeated notification grants nothing. Returns true when this call granted.
 */
export async function completeCreditOrder(db: Db, orderId: number): Promise<boolean> {
  return db.transaction(async (tx) => (await settleOrder(tx, orderId, null)) !== null);
}
