import { Hono } from 'hono';
import type { AppContext } from '../../src/context.js';
import { probeImap } from '../../src/upstream/probe.js';

/** `GET /healthz`: 200 when the database and the upstream store answer, 503 (with which is down) otherwise. */
export function createHealthRoutes(ctx: AppContext) {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    const upstream = ctx.config.UPSTREAM_IMAP;
    const [database, imap] = await Promise.all([
      ctx.database.ping(),
      upstream ? probeImap({ ...upstream, tls: ctx.config.UPSTREAM_IMAP_TLS }) : Promise.resolve(false),
    ]);
    const ok = database && imap;
    return c.json(
      { status: ok ? 'ok' : 'degraded', database: database ? 'up' : 'down', upstream: imap ? 'up' : 'down' },
      ok ? 200 : 503,
    );
  });
  return app;
}
