/**
 * Provider webhooks. Export for web/app.ts: `createWebhookRoutes(ctx)`, a Hono sub-app with
 * `POST /webhooks/twilio/status` — mount it at '/' and exempt ONLY this route from CSRF: Twilio cannot
 * carry a CSRF token; the X-Twilio-Signature HMAC (keyed with TWILIO_AUTH_TOKEN) is its proof instead.
 */
import { Hono } from 'hono';
import twilio from 'twilio';
import type { AppContext } from '../../src/context.js';
import { applyStatusReport } from '../../src/sms/status-callback.js';
import { statusCallbackUrl } from '../../src/sms/twilio-sender.js';

export function createWebhookRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post('/webhooks/twilio/status', async (c) => {
    const token = ctx.config.TWILIO_AUTH_TOKEN;
    if (ctx.config.SMS_PROVIDER !== 'twilio' || !token) return c.body(null, 404);
    const form = await c.req.parseBody();
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(form)) if (typeof v === 'string') params[k] = v;
    // Twilio signs the URL it was given, i.e. the public one, not whatever host a proxy forwarded to us.
    const url = statusCallbackUrl(ctx.config) + new URL(c.req.url).search;
    const signature = c.req.header('x-twilio-signature') ?? '';
    const algorithm = twilio.getSignatureAlgorithm(c.req.header('x-twilio-webhooks-signature-settings'));
    if (!signature || !twilio.validateRequest(token, signature, url, params, algorithm)) {
      ctx.log.warn({ path: c.req.path }, 'Twilio status callback with a bad signature refused');
      return c.text('invalid signature', 403);
    }
    if (!params.MessageSid || !params.MessageStatus) return c.text('missing MessageSid or MessageStatus', 400);
    const outcome = await applyStatusReport(ctx, { messageSid: params.MessageSid, status: params.MessageStatus, errorCode: params.ErrorCode });
    ctx.log.info({ sid: params.MessageSid, status: params.MessageStatus, outcome }, 'Twilio status callback');
    return c.body(null, 204);
  });
  return app;
}
