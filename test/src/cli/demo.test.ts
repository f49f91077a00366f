import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../../src/auth/authenticate.js';
import { seedDemo } from '../../../src/cli/demo.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { findGroupByName } from '../../../src/accounts/groups.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('demo seed', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { SMS_PROVIDER: 'console' } });
  });
  afterAll(() => ctx.close());

  it('creates a demo account whose printed credentials all work, once', async () => {
    const first = await seedDemo(ctx);
    expect(first.created).toBe(true);
    const c = first.credentials!;
    const ip = '127.0.0.1';
    const main = await authenticate(ctx, { username: 'demo', secret: c.password, service: 'web', ip });
    expect(main).toMatchObject({ ok: true, method: 'main', restricted: false });
    const app = await authenticate(ctx, { username: 'demo', secret: String(c['app password (IMAP/SMTP)']), service: 'imap', ip });
    expect(app).toMatchObject({ ok: true, method: 'app', restricted: false });
    const restricted = await authenticate(ctx, { username: 'demo', secret: String(c['restricted app password (IMAP)']), service: 'imap', ip });
    expect(restricted).toMatchObject({ ok: true, method: 'app', restricted: true });
    const firstCode = (c['one-time codes (restricted)'] as string[])[0]!.split(':')[1]!;
    expect(await authenticate(ctx, { username: 'demo', secret: firstCode, service: 'web', ip })).toMatchObject({ ok: true, method: 'otp', restricted: true });
    const sms = await authenticate(ctx, { username: 'demo', secret: String(c['sms password (restricted; code on /demo/phone)']), service: 'web', ip });
    expect(sms).toMatchObject({ ok: false, reason: 'sms-required', sentToHint: '42' });
    // The code was paid by the demo family.
    const group = await findGroupByName(ctx, 'Demo Family');
    expect(await getCreditBalance(ctx.db, { groupId: group!.id })).toBe(19);

    const again = await seedDemo(ctx);
    expect(again.created).toBe(false);
    expect(again.credentials?.password).toBe(c.password);
  });
});
