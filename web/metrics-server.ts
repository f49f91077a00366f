/** The METRICS_PORT listener: only /metrics, nothing of the web app, so scraping never touches sessions. */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Config } from '../src/config.js';
import { createMetricsRoutes } from './routes/metrics.js';

export function startMetricsServer(config: Pick<Config, 'METRICS_HOST' | 'METRICS_TOKEN'>, port: number): Promise<{ server: ServerType; port: number }> {
  const app = new Hono();
  app.route('/', createMetricsRoutes({ token: config.METRICS_TOKEN }));
  app.notFound((c) => c.text('not found\n', 404));
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: config.METRICS_HOST, port }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}
