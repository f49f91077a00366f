/**
 * `GET /demo/phone`: the development "phone". With SMS_PROVIDER=console no text leaves the machine, so
 * the messages the console provider wrote to its outbox are shown here, newest first. Mounted only with
 * the console provider, which the configuration refuses in production.
 */
import { Hono } from 'hono';
import type { AppContext } from '../../src/context.js';
import { listOutboxMessages } from '../../src/sms/console-sender.js';
import type { WebEnv } from '../env.js';
import { BarePage } from '../views/layout.js';

export function createDemoPhoneRoutes(ctx: AppContext) {
  const app = new Hono<WebEnv>();
  app.get('/demo/phone', async (c) => {
    const messages = await listOutboxMessages(ctx.db, 10);
    c.header('Cache-Control', 'no-store');
    return c.html(
      <BarePage title="Demo phone">
        <h1>Demo phone</h1>
        <p>
          Texts the development SMS provider would have sent (<code>SMS_PROVIDER=console</code>). Reload after asking
          for a code.
        </p>
        {messages.length === 0 ? (
          <p>No messages yet.</p>
        ) : (
          <ul class="phone-messages">
            {messages.map((m) => (
              <li>
                <strong>To •••• ••{m.toNumber.slice(-2)}</strong> <small>{m.createdAt.toISOString().slice(11, 19)} UTC</small>
                <br />
                {m.body}
              </li>
            ))}
          </ul>
        )}
        <p>
          <a href="/login">Back to login</a>
        </p>
      </BarePage>,
    );
  });
  return app;
}
