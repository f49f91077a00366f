// Premium-rate and other non-mobile numbers never receive login codes (issue 12: the SMS-pumping vector),
// and one rule says who pays for a code.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { listPersonalities, normalizeMobile, setMobile } from '../../../src/accounts/personalities.js';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { personalities } from '../../../src/db/schema.js';
import { choosePayer } from '../../../src/sms/payer.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { countSms, grantPersonalCredits } from '../auth/fixtures.js';

describe('Mobile numbers for SMS', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('refuses premium-rate, toll-free and landline numbers with a sentence saying what they are', () => {
    for (const [number, what] of [
      ['+44 909 879 0000', 'premium-rate'],
      ['+1 900 555 0100', 'premium-rate'],
      ['+33 8 91 23 45 67', 'premium-rate'],
      ['+44 800 123 4567', 'toll-free'],
      ['+44 20 7123 4567', 'landline'],
    ] as const) {
      expect(() => normalizeMobile(number)).toThrow(expect.objectContaining({ code: 'MOBILE_INVALID', userMessage: expect.stringContaining(`${what} number, not a mobile number`) }));
    }
  });

  it('takes mobile numbers, and North American numbers that may be mobile', () => {
    expect(normalizeMobile('+44 7911 123456')).toBe('+447911123456');
    expect(normalizeMobile('+49 170 1234567')).toBe('+491701234567');
    expect(normalizeMobile('+1 415 555 0142')).toBe('+14155550142');
  });

  it('refuses a premium-rate number on a personality, and sends no code to one stored before the rule', async () => {
    const u = await createUser(ctx, { username: 'pumped', password: 'pumped main password', mobile: '+447911123456' });
    const [p] = await listPersonalities(ctx, u.id);
    await expect(setMobile(ctx, { userId: u.id, personalityId: p!.id, mobile: '+449098790000' })).rejects.toMatchObject({ code: 'MOBILE_INVALID' });
    expect((await listPersonalities(ctx, u.id))[0]!.mobile).toBe('+447911123456');

    await ctx.db.update(personalities).set({ mobile: '+449098790000' }).where(eq(personalities.id, p!.id));
    await createUserChosenLogin(ctx, { userId: u.id, kind: 'sms', secret: 'pumped sms password' });
    await grantPersonalCredits(ctx, u.id, 3);
    const sms = await countSms(ctx);
    const r = await authenticate(ctx, { username: 'pumped', secret: 'pumped sms password', service: 'web', ip: '192.0.2.77' });
    expect(r).toMatchObject({ ok: false, reason: 'sms-unavailable', code: 'SMS_INVALID_NUMBER', message: expect.stringContaining('premium-rate number') });
    expect(await countSms(ctx)).toBe(sms);
    expect(await getCreditBalance(ctx.db, { userId: u.id })).toBe(3);
  });
});

describe('choosePayer', () => {
  const group = (allowSms: boolean) => ({ id: 1, name: 'Acme', allowSms });
  it.each([
    [null, false, true, 'personal', 'no-group'],
    [null, false, false, 'none', 'no-group'],
    [group(false), true, true, 'personal', 'sms-not-allowed'],
    [group(false), true, false, 'none', 'sms-not-allowed'],
    [group(true), true, false, 'group', 'group-pays'],
    [group(true), false, true, 'personal', 'group-has-no-credits'],
    [group(true), false, false, 'none', 'group-has-no-credits'],
  ] as const)('group %o, group credits %s, own credits %s → %s (%s)', (g, groupHasCredits, personalHasCredits, payer, why) => {
    expect(choosePayer(g, { groupHasCredits, personalHasCredits })).toEqual({ payer, why });
  });
});
