/**
 * The Hono application: mounts each area's sub-app. Handlers stay in their sub-apps (web/routes/*.ts).
 *
 * Order matters: context and client address → security headers → body size limit → public routes
 * (health, stylesheet) → session → origin check (CSRF, webhooks exempt) → the areas, each of which adds
 * its own guards (session, per-session CSRF token, options access, step-up).
 */
import { Hono } from 'hono';
import type { AppContext } from '../src/context.js';
import { clientIpOf } from './client-ip.js';
import { cookiePolicy } from './cookies.js';
import type { WebEnv, WebOptions } from './env.js';
import { notFound, onError } from './errors.js';
import { limitBodies } from './middleware/body-limit.js';
import { originGuard } from './middleware/origin-guard.js';
import { securityHeaders } from './middleware/security.js';
import { requireChosenPassword } from './middleware/first-password.js';
import { requestMetrics } from './middleware/request-metrics.js';
import { loadSession } from './middleware/session.js';
import { refuse } from './refusal.js';
import { renderWithoutAsyncContext } from './render-mode.js';
import { createChoosePasswordRoutes } from './routes/choose-password.js';
import { createDemoPhoneRoutes } from './routes/demo-phone.js';
import { isLoopbackHost } from '../src/config.js';
import { createHealthRoutes } from './routes/health.js';
import { createLoginRoutes } from './routes/login.js';
import { createLoginNoticeRoutes } from './routes/login-notice.js';
import { createStorePool } from './mail/store-pool.js';
import { createMailRoutes } from './routes/mail/index.js';
import { createMetricsRoutes } from './routes/metrics.js';
import { createManageRoutes } from './routes/manage/index.js';
import { createOptionsRoutes } from './routes/options/index.js';
import { createWebhookRoutes } from './routes/webhooks.js';
import { createStaticRoutes } from './static.js';

/** Forms here are small; anything bigger is a mistake or an attack. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export function createWebApp(ctx: AppContext, options: WebOptions = {}) {
  renderWithoutAsyncContext();
  const policy = cookiePolicy(ctx.config);
  const app = new Hono<WebEnv>();
  app.onError(onError);
  app.notFound(notFound);

  app.use('*', async function contextMiddleware(c, next) {
    c.set('ctx', ctx);
    c.set('ip', clientIpOf(c, options, ctx.config.TRUSTED_PROXIES));
    c.set('viewer', null);
    c.set('dispatch', async (req) => app.fetch(req, c.env));
    await next();
  });
  app.use('*', requestMetrics());
  app.use('*', securityHeaders());
  // Compose uploads attachments: up to a whole message (the route gives the readable error below that).
  const composeMax = ctx.config.MAX_MESSAGE_SIZE + 1024 * 1024;
  const bodyMax = (path: string) => (path === '/mail/compose' ? composeMax : MAX_REQUEST_BODY_BYTES);
  app.use('*', limitBodies(bodyMax, async (c) => {
    throw await refuse(c, 413, 'body-too-large');
  }));
  app.route('/', createHealthRoutes(ctx));
  // Only with a token: the public web never exposes metrics by default.
  if (ctx.config.METRICS_TOKEN) app.route('/', createMetricsRoutes({ token: ctx.config.METRICS_TOKEN }));
  app.route('/', createStaticRoutes());
  // Only where the configuration allows the console provider (loopback HOST or ALLOW_CONSOLE_SMS): 404 otherwise.
  if (ctx.config.SMS_PROVIDER === 'console' && (isLoopbackHost(ctx.config.HOST) || ctx.config.ALLOW_CONSOLE_SMS)) app.route('/', createDemoPhoneRoutes(ctx));
  // Signed by Twilio instead of carrying a session or CSRF token; mounted before both.
  app.route('/', createWebhookRoutes(ctx));

  app.use('*', loadSession(policy));
  app.use('*', originGuard(ctx.config, ['/webhooks/twilio/status']));
  // Answer links of login notices work with or without a session (src/notices/answer.ts).
  app.route('/', createLoginNoticeRoutes());
  app.use('*', requireChosenPassword());
  app.get('/', (c) => c.redirect(c.get('viewer') ? '/mail' : '/login', 303));
  // Sign-out closes the session's store connection too (after the logout route accepted the form).
  const mailStore = options.mailStore ?? createStorePool(ctx);
  app.use('/logout', async function closeStoreAtSignOut(c, next) {
    const id = c.get('viewer')?.session.id;
    await next();
    if (id && c.req.method === 'POST' && c.res.status === 303) await mailStore.close(id);
  });
  app.route('/', createLoginRoutes(policy));
  app.route('/', createChoosePasswordRoutes(policy));
  app.route('/mail', createMailRoutes(mailStore));
  app.route('/options', createOptionsRoutes(policy));
  app.route('/manage', createManageRoutes());
  return app;
}
