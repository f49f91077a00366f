import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { isPosternError, type PosternError } from '../../../src/errors.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { addSmsLogin, createGroup, createSmsUser, fund, joinGroup } from './fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({
    env: { SMS_COOLDOWN_SECONDS: '60', SMS_MAX_PER_USER_PER_HOUR: '3', SMS_MAX_PER_GROUP_PER_DAY: '4', SMS_ALLOWED_COUNTRIES: '44, +1' },
  });
});
afterAll(() => ctx.close());

const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: PosternError) => e);

async function refusalReasons(userId: number) {
  return (await listAuditEvents(ctx.db, { userId, events: ['sms.refused'] })).map((e) => e.details.reason);
}

describe('SMS abuse limits', () => {
  it('makes a login wait for the cool-down and says how long', async () => {
    const u = await createSmsUser(ctx);
    await fund(ctx, { userId: u.userId }, 5);
    await sendLoginCode(ctx, { ...u, code: '100001' });
    const error = await fail(sendLoginCode(ctx, { ...u, code: '100002' }));
    expect(isPosternError(error, 'SMS_COOLDOWN')).toBe(true);
    const wait = error.context.retryAfterSeconds as number;
    expect(wait).toBeGreaterThan(55);
    expect(wait).toBeLessThanOrEqual(60);
    expect(error.userMessage).toBe(`A code was sent a moment ago: you can request a new code in ${wait} s.`);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(4);
    expect(await refusalReasons(u.userId)).toEqual(['cooldown']);
  });

  it('lets only one of ten simultaneous requests for the same login through the cool-down', async () => {
    const u = await createSmsUser(ctx);
    await fund(ctx, { userId: u.userId }, 10);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => sendLoginCode(ctx, { ...u, code: `20000${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(9);
  });

  it('stops a user after the hourly maximum, across their logins', async () => {
    const u = await createSmsUser(ctx);
    await fund(ctx, { userId: u.userId }, 10);
    const logins = [u.loginId, await addSmsLogin(ctx, u.userId), await addSmsLogin(ctx, u.userId), await addSmsLogin(ctx, u.userId)];
    for (const loginId of logins.slice(0, 3)) await sendLoginCode(ctx, { userId: u.userId, loginId, code: '300000' });
    const error = await fail(sendLoginCode(ctx, { userId: u.userId, loginId: logins[3]!, code: '300003' }));
    expect(isPosternError(error, 'SMS_RATE_LIMITED')).toBe(true);
    expect(error.userMessage).toMatch(/this hour: you can request a new code in (60|59) min/);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(7);
    expect(await refusalReasons(u.userId)).toEqual(['user-hourly-limit']);
  });

  it('stops a group after its daily maximum, whoever of its members asks', async () => {
    const group = await createGroup(ctx, { allowSms: true });
    await fund(ctx, { groupId: group.id }, 20);
    const members = [];
    for (let i = 0; i < 5; i++) {
      const m = await createSmsUser(ctx);
      await joinGroup(ctx, group.id, m.userId);
      members.push(m);
    }
    for (const m of members.slice(0, 4)) await sendLoginCode(ctx, { ...m, code: '400000' });
    const error = await fail(sendLoginCode(ctx, { ...members[4]!, code: '400004' }));
    expect(isPosternError(error, 'SMS_RATE_LIMITED')).toBe(true);
    expect(error.userMessage).toMatch(/daily limit/);
    expect(await getCreditBalance(ctx.db, { groupId: group.id })).toBe(16);
    const [refused] = await listAuditEvents(ctx.db, { groupId: group.id, events: ['sms.refused'] });
    expect(refused!.details).toMatchObject({ reason: 'group-daily-limit' });
  });

  it('refuses numbers outside the allowed country codes and charges nothing', async () => {
    const u = await createSmsUser(ctx, { mobile: '+33612345678' });
    await fund(ctx, { userId: u.userId }, 1);
    const error = await fail(sendLoginCode(ctx, { ...u, code: '500000' }));
    expect(isPosternError(error, 'SMS_COUNTRY_BLOCKED')).toBe(true);
    expect(error.userMessage).toMatch(/\+33/);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
    const events = await listAuditEvents(ctx.db, { userId: u.userId, events: ['sms.refused'] });
    expect(events[0]!.details).toMatchObject({ reason: 'country-blocked', toHint: '78' });
    expect(JSON.stringify(events)).not.toContain('612345678');
  });

  it('sends to an allowed country code', async () => {
    const u = await createSmsUser(ctx, { mobile: '+12025550143' });
    await fund(ctx, { userId: u.userId }, 1);
    await expect(sendLoginCode(ctx, { ...u, code: '600000' })).resolves.toMatchObject({ sentToHint: '43' });
  });
});
