/**
 * Rendering a page must not start an AsyncLocalStorage: on Node.js 20 that turns on promise hooks for the
 * whole process (web/render-mode.ts), slowing every later await in the web front and the gateway alike.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWebApp } from '../../web/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

describe('page rendering', () => {
  it('renders a whole page (head included) without running an AsyncLocalStorage', async () => {
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    try {
      const app = createWebApp(ctx);
      const res = await app.request('/login');
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<head>');
      expect(html).toContain('<form');
      // hono/jsx runs its render store as a WeakMap; the test runner may use storages of its own.
      const renders = run.mock.calls.filter(([store]) => store instanceof WeakMap);
      expect(renders).toHaveLength(0);
    } finally {
      run.mockRestore();
    }
  });
});
