/**
 * The first CSRF layer, for every state-changing request (the per-session token is the second, see
 * session.ts): hono's `csrf` accepts a form post only when `Sec-Fetch-Site: same-origin` or the Origin is
 * ours (PUBLIC_URL's origin; in loopback development also the same port on the other loopback names).
 * The exact paths in `exempt` (only the Twilio status webhook, which is signed instead) are not checked.
 */
import type { MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import type { Config } from '../../src/config.js';
import { isLoopbackHttp } from '../cookies.js';
import type { WebEnv } from '../env.js';
import { refuse } from '../refusal.js';

function allowedOrigins(config: Pick<Config, 'PUBLIC_URL'>): Set<string> {
  const u = new URL(config.PUBLIC_URL);
  const origins = new Set([u.origin]);
  if (isLoopbackHttp(config.PUBLIC_URL)) {
    for (const host of ['localhost', '127.0.0.1', '[::1]']) origins.add(`http://${host}${u.port ? `:${u.port}` : ''}`);
  }
  return origins;
}

export function originGuard(config: Pick<Config, 'PUBLIC_URL'>, exempt: string[]): MiddlewareHandler<WebEnv> {
  const origins = allowedOrigins(config);
  const check = csrf({ origin: (origin) => origins.has(origin), secFetchSite: 'same-origin' });
  return async function originGuardMiddleware(c, next) {
    if (exempt.includes(c.req.path)) return next();
    let passed = false;
    try {
      await check(c, async () => {
        passed = true;
      });
    } catch {
      // hono's csrf throws a bare 403; ours is audited and rendered like every other refusal.
    }
    if (!passed) throw await refuse(c, 403, 'cross-origin-form');
    await next();
  };
}
