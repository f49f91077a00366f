/**
 * Manage → Buy SMS Credits. Each drawn form carries a fresh random idempotency key; `purchaseCredits`
 * keys the order by it, so a double click or a reload of the POST buys once. The answer is a redirect to
 * the order's receipt (POST → redirect → GET), which shows the balance right after the purchase.
 */
import crypto from 'node:crypto';
import { Hono, type Context } from 'hono';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { findCreditAccount, getCreditBalance } from '../../../src/credits/accounts.js';
import { findOrderReceipt } from '../../../src/credits/order-receipt.js';
import { listCreditPacks, purchaseCredits } from '../../../src/credits/purchases.js';
import { isPosternError } from '../../../src/errors.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, viewerOf } from '../../middleware/session.js';
import { BuyPage, ReceiptPage } from '../../views/manage-credits-views.js';
import { manageHref } from '../../views/manage-views.js';
import { managedGroupOf } from './guard.js';

function newIdempotencyKey(): string {
  return crypto.randomBytes(18).toString('base64url');
}

export function createCreditRoutes() {
  const app = new Hono<WebEnv>();

  async function renderBuy(c: Context<WebEnv>, error: string | null = null, status: 200 | 409 | 422 = 200) {
    const ctx = c.get('ctx');
    const viewer = viewerOf(c);
    const group = managedGroupOf(c);
    const balance = await getCreditBalance(ctx.db, { groupId: group.id });
    return c.html(
      <BuyPage
        viewer={viewer}
        group={group}
        packs={listCreditPacks(ctx.config)}
        balance={balance}
        idempotencyKey={newIdempotencyKey()}
        stepUpFresh={hasRecentStepUp(viewer.session)}
        error={error}
      />,
      status,
    );
  }

  app.get('/buy', (c) => renderBuy(c));

  app.post('/buy', async (c) => {
    const group = managedGroupOf(c);
    // Credits are bought for SMS logins; while those are not allowed the page offers no packs, and a
    // hand-made post buys nothing either.
    if (!group.allowSms) return renderBuy(c, null, 409);
    const form = await readForm(c);
    try {
      const result = await purchaseCredits(c.get('ctx'), {
        owner: { groupId: group.id },
        credits: Number(field(form, 'credits', 12)),
        idempotencyKey: field(form, 'idempotency_key', 200),
        actorUserId: viewerOf(c).session.userId,
      });
      if (result.checkoutUrl) return c.redirect(result.checkoutUrl, 303);
      return c.redirect(`${manageHref(group, 'buy')}/orders/${result.order.id}${result.created ? '' : '?repeated=1'}`, 303);
    } catch (e) {
      if (isPosternError(e, 'INVALID_INPUT')) return renderBuy(c, e.userMessage, 422);
      throw e;
    }
  });

  app.get('/buy/orders/:orderId{[0-9]+}', async (c) => {
    const ctx = c.get('ctx');
    const group = managedGroupOf(c);
    const account = await findCreditAccount(ctx.db, { groupId: group.id });
    const receipt = account ? await findOrderReceipt(ctx.db, { accountId: account.id, orderId: Number(c.req.param('orderId')) }) : null;
    if (!receipt) return c.notFound();
    return c.html(<ReceiptPage viewer={viewerOf(c)} group={group} receipt={receipt} repeated={c.req.query('repeated') !== undefined} />);
  });

  return app;
}
