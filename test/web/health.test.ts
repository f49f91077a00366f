import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../../web/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('/healthz', () => {
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

  it('answers 200 when the database and the store are up', async () => {
    const res = await createWebApp(up).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'up', upstream: 'up' });
  });

  it('answers 503 naming the store when the store is down', async () => {
    const res = await createWebApp(storeDown).request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'degraded', database: 'up', upstream: 'down' });
  });

  it('answers 503 naming the database when the database is down', async () => {
    const ctx = await createTestContext();
    const app = createWebApp(ctx);
    await ctx.database.close();
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ database: 'down' });
    await ctx.close().catch(() => undefined);
  });
});
