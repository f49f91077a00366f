/**
 * `GET /metrics`: Prometheus text from the process registry (src/metrics). Never public by default: on
 * the web port it exists only when METRICS_TOKEN is set and answers only `Authorization: Bearer <token>`;
 * on METRICS_PORT (loopback unless configured otherwise) it asks for the token too when one is set.
 */
import crypto from 'node:crypto';
import { Hono } from 'hono';
import { metricsRegistry } from '../../src/metrics/registry.js';

/** Compares digests, so neither the token's length nor its prefix leaks through timing. */
function sameToken(presented: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(presented).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

export function createMetricsRoutes(options: { token?: string }) {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    if (options.token) {
      const header = c.req.header('authorization') ?? '';
      const presented = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';
      if (!sameToken(presented, options.token)) {
        c.header('WWW-Authenticate', 'Bearer realm="metrics"');
        return c.text('metrics need a bearer token\n', 401);
      }
    }
    c.header('Content-Type', metricsRegistry.contentType);
    c.header('Cache-Control', 'no-store');
    return c.body(await metricsRegistry.metrics());
  });
  return app;
}
