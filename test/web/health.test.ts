import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../../web/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('/readyz and /healthz', () => {
  let up: TestContext;
  let storeDown: TestContext;
  beforeAll(async () => {
    up = await createTestContext();
    storeDown = await createTestContext({ env: { UPSTREAM_IMAP: '127.0.0.1:1' } });
  });
  afterAll(async () => {
    await up.close();
    await storeDown.close();
  });

  it('readyz answers 200 when the database and the store are up', async () => {
    const res = await createWebApp(up).request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'up', upstream: 'up' });
  });

  it('readyz answers 503 naming the store when the store is down; healthz stays 200', async () => {
    const app = createWebApp(storeDown);
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'degraded', database: 'up', upstream: 'down' });
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('readyz answers 503 naming the database when the database is down; healthz stays 200', async () => {
    const ctx = await createTestContext();
    const app = createWebApp(ctx);
    await ctx.database.close();
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ database: 'down' });
    const live = await app.request('/healthz');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    await ctx.close().catch(() => undefined);
  });
});
