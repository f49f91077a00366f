/**
 * The receipt of one credit order, for the confirmation page after "Buy SMS Credits": the order, its
 * price, and the balance right after its credits were added (from the ledger row the purchase wrote, so
 * a later SMS does not change what the receipt says).
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { creditLedger, creditOrders, invoices } from '../db/schema.js';
import type { CreditOrder } from './purchases.js';

export interface OrderReceipt {
  order: CreditOrder;
  /** Null for a provider that records no invoice. */
  amountCents: number | null;
  currency: string | null;
  /** Null while the order is not paid. */
  balanceAfter: number | null;
}

/** The receipt of `orderId` if it belongs to `accountId`; null otherwise (one account never sees another's). */
export async function findOrderReceipt(db: Db, input: { accountId: number; orderId: number }): Promise<OrderReceipt | null> {
  if (!Number.isSafeInteger(input.orderId) || input.orderId <= 0 || input.orderId > 2 ** 31 - 1) return null;
  const [row] = await db
    .select({ order: creditOrders, amountCents: invoices.amountCents, currency: invoices.currency })
    .from(creditOrders)
    .leftJoin(invoices, eq(invoices.orderId, creditOrders.id))
    .where(and(eq(creditOrders.id, input.orderId), eq(creditOrders.accountId, input.accountId)));
  if (!row) return null;
  const [entry] = await db
    .select({ balanceAfter: creditLedger.balanceAfter })
    .from(creditLedger)
    .where(and(eq(creditLedger.orderId, row.order.id), eq(creditLedger.accountId, input.accountId), eq(creditLedger.kind, 'purchase')));
  return { order: row.order, amountCents: row.amountCents, currency: row.currency, balanceAfter: entry?.balanceAfter ?? null };
}
