import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPosternError } from '../../../src/errors.js';
import { metricsRegistry } from '../../../src/metrics/registry.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createSmsUser, fund } from '../sms/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

async function smsCount(outcome: string): Promise<number> {
  const text = await metricsRegistry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`postern_sms_total{outcome="${outcome}"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('SMS metrics', () => {
  it('counts a sent code, and a failed send with its refund', async () => {
    const before = { sent: await smsCount('sent'), failed: await smsCount('failed'), refunded: await smsCount('refunded') };
    const u = await createSmsUser(ctx);
    await fund(ctx, { userId: u.userId }, 2);
    await sendLoginCode(ctx, { ...u, code: '482913' });
    const broken = { name: 'console' as const, send: async () => { throw new TypeError('boom'); } };
    // Another user: the first one is inside its SMS cool-down now.
    const v = await createSmsUser(ctx);
    await fund(ctx, { userId: v.userId }, 1);
    const error = await sendLoginCode({ ...ctx, sms: broken }, { ...v, code: '123456' }).catch((e: unknown) => e);
    expect(isPosternError(error, 'SMS_PROVIDER_DOWN')).toBe(true);
    expect(await smsCount('sent')).toBe(before.sent + 1);
    expect(await smsCount('failed')).toBe(before.failed + 1);
    expect(await smsCount('refunded')).toBe(before.refunded + 1);
  });
});
