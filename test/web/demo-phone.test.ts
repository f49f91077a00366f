import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { grantCredits } from '../../src/credits/grant.js';
import { sendLoginCode } from '../../src/sms/login-code.js';
import { createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { createWebApp } from '../../web/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('the demo phone (console SMS provider)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { SMS_PROVIDER: 'console' } });
  });
  afterAll(() => ctx.close());

  it('shows the code the console provider "sent", with the number masked', async () => {
    const user = await createUser(ctx, { username: 'phone-owner', password: 'main-password-1', mobile: '+14155550123' });
    await grantCredits(ctx, { owner: { userId: user.id }, credits: 1 });
    const login = await createUserChosenLogin(ctx, { userId: user.id, kind: 'sms', secret: 'sms-password-1' });
    await sendLoginCode(ctx, { userId: user.id, loginId: login.id, code: '480213' });
    const res = await createWebApp(ctx).request('/demo/phone');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Your Postern login code is 480213');
    expect(html).toContain('•••• ••23');
    expect(html).not.toContain('4155550123');
  });

  it('does not exist with a real SMS provider', async () => {
    const twilioCtx = await createTestContext({
      env: { SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', TWILIO_AUTH_TOKEN: 'x'.repeat(32), TWILIO_FROM: '+15005550006' },
    });
    try {
      expect((await createWebApp(twilioCtx).request('/demo/phone')).status).toBe(404);
    } finally {
      await twilioCtx.close();
    }
  });

  it('answers on a non-loopback HOST only with ALLOW_CONSOLE_SMS=1 (otherwise the process does not start)', async () => {
    await expect(createTestContext({ env: { SMS_PROVIDER: 'console', HOST: '0.0.0.0' } })).rejects.toThrow(/SMS_PROVIDER/);
    const devCtx = await createTestContext({ env: { SMS_PROVIDER: 'console', HOST: '0.0.0.0', ALLOW_CONSOLE_SMS: '1' } });
    try {
      expect((await createWebApp(devCtx).request('/demo/phone')).status).toBe(200);
    } finally {
      await devCtx.close();
    }
  });

  it('is not shown if a console context somehow runs on a public HOST', async () => {
    const publicCtx = { ...ctx, config: { ...ctx.config, HOST: '0.0.0.0' } };
    expect((await createWebApp(publicCtx).request('/demo/phone')).status).toBe(404);
  });
});
