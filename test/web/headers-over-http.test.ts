/**
 * The security headers as a browser receives them from @hono/node-server (as `postern serve` runs), not
 * only as app.fetch() returns them: the middleware sets them on the finished response's headers, which
 * node-server writes from its own cache, so a regression there would only show over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../../web/app.js';
import { stylesheetPath } from '../../web/static.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { serveOnLoopback, type RunningServer } from '../helpers/browser.js';

let ctx: TestContext;
let server: RunningServer;

beforeAll(async () => {
  ctx = await createTestContext();
  server = await serveOnLoopback((origin) => createWebApp({ ...ctx, config: { ...ctx.config, PUBLIC_URL: origin } }).fetch);
});
afterAll(async () => {
  await server?.close();
  await ctx?.close();
});

describe('response headers over real HTTP', () => {
  it('gives a page no-store, the strict CSP and the hardening headers, with its body whole', async () => {
    const res = await fetch(`${server.url}/login`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('keeps a route’s own Cache-Control (the stylesheet) and still adds the CSP', async () => {
    const res = await fetch(`${server.url}${stylesheetPath}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('gives a redirect and a not-found page no-store too', async () => {
    const redirect = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    const missing = await fetch(`${server.url}/no/such/page`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    expect(missing.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
