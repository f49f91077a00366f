import { Hono } from 'hono';
import type { AppContext } from '../../src/context.js';
import { probeImap } from '../../src/upstream/probe.js';

/** The store probe's bound: /readyz answers a balancer within about a second and a half in every case. */
const STORE_PROBE_TIMEOUT_MS = 1500;

/**
 * `GET /healthz`: liveness only. The process answers, so it should not be restarted; it touches neither
 * the database nor the store, so it never waits on them (an outage is /readyz's business, not a reason
 * to kill every instance at once).
 *
 * `GET /readyz`: 200 when the database and the upstream store answer, 503 (naming which is down)
 * otherwise, so that a balancer stops sending clients to an instance that cannot serve them.
 */
export function createHealthRoutes(ctx: AppContext) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const upstream = ctx.config.UPSTREAM_IMAP;
    const [database, imap] = await Promise.all([
      ctx.database.ping(),
      upstream ? probeImap({ ...upstream, tls: ctx.config.UPSTREAM_IMAP_TLS }, STORE_PROBE_TIMEOUT_MS) : Promise.resolve(false),
    ]);
    const ok = database && imap;
    return c.json(
      { status: ok ? 'ok' : 'degraded', database: database ? 'up' : 'down', upstream: imap ? 'up' : 'down' },
      ok ? 200 : 503,
    );
  });
  return app;
}
