import type { MiddlewareHandler } from 'hono';
import { observeWebRequest } from '../../src/metrics/record.js';

/** First path segment → area label: a fixed set, so a scanner's random paths add no series. */
const AREAS: Record<string, string> = {
  mail: 'webmail',
  options: 'options',
  manage: 'manage',
  login: 'login',
  logout: 'login',
  'choose-password': 'login',
  webhooks: 'webhooks',
  healthz: 'health',
  readyz: 'health',
  metrics: 'metrics',
  static: 'static',
};

function areaOf(path: string): string {
  return AREAS[path.split('/')[1] ?? ''] ?? 'other';
}

/** Observes every web request's latency (postern_web_request_duration_seconds). */
export function requestMetrics(): MiddlewareHandler {
  return async function requestMetricsMiddleware(c, next) {
    const start = performance.now();
    try {
      await next();
    } finally {
      const method = c.req.method === 'GET' || c.req.method === 'POST' || c.req.method === 'HEAD' ? c.req.method : 'other';
      observeWebRequest(areaOf(c.req.path), method, c.res.status, (performance.now() - start) / 1000);
    }
  };
}
