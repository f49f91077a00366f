import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { getDefaultPersonality, setMobile } from '../../../src/accounts/personalities.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { getSmsChallenge, resendSmsChallenge, verifySmsChallenge } from '../../../src/auth/sms-challenges.js';
import type { AuthResult, AuthRequest } from '../../../src/auth/types.js';
import { smsChallenges } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { countSms, grantPersonalCredits, lastSmsCode } from './fixtures.js';

type Required = Extract<AuthResult, { reason: 'sms-required' }>;

describe('SMS password logins', () => {
  let ctx: TestContext;
  let n = 0;
  let ip = '';
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());
  beforeEach(() => {
    n++;
    ip = `198.51.100.${n}`;
  });

  /** A user with an SMS login, a mobile number and credits; returns the username. */
  async function smsUser(options: { credits?: number; mobile?: string | null } = {}) {
    const username = `sms${n}`;
    const user = await createUser(ctx, { username, password: 'main password!', mobile: options.mobile === null ? undefined : (options.mobile ?? '+447911123456') });
    const login = await createUserChosenLogin(ctx, { userId: user.id, kind: 'sms', secret: 'sms password', restricted: true });
    if (options.credits !== 0) await grantPersonalCredits(ctx, user.id, options.credits ?? 10);
    return { username, user, login };
  }
  const req = (username: string, secret: string, service: AuthRequest['service'] = 'web'): AuthRequest => ({ username, secret, service, ip });

  it('the SMS password alone sends a 6-digit code and asks for it; password + code opens a restricted session', async () => {
    const { username, login } = await smsUser();
    const first = (await authenticate(ctx, req(username, 'sms password'))) as Required;
    expect(first).toMatchObject({ ok: false, reason: 'sms-required', sentToHint: '56' });
    expect(first.expiresAt.getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(first.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000 + 2000);
    const code = await lastSmsCode(ctx);
    expect(code).toMatch(/^\d{6}$/);
    const ok = await verifySmsChallenge(ctx, { challengeId: first.challengeId, code, ip, service: 'web' });
    expect(ok).toMatchObject({ ok: true, method: 'sms', loginId: login.id, restricted: true });
    expect(await verifySmsChallenge(ctx, { challengeId: first.challengeId, code, ip, service: 'web' })).toEqual({ ok: false, reason: 'failed' });
  });

  it('the code is stored only as a keyed hash and never appears in the audit log', async () => {
    const { username, user } = await smsUser();
    const r = (await authenticate(ctx, req(username, 'sms password'))) as Required;
    const code = await lastSmsCode(ctx);
    const [row] = await ctx.db.select().from(smsChallenges).where(eq(smsChallenges.id, r.challengeId));
    expect(row!.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(code);
    await verifySmsChallenge(ctx, { challengeId: r.challengeId, code, ip, service: 'web' });
    expect(JSON.stringify(await listAuditEvents(ctx.db, { userId: user.id }))).not.toMatch(new RegExp(`${code}|sms password|7911123456`));
  });

  it('five wrong codes void the challenge: the right code then fails too', async () => {
    const { username } = await smsUser();
    const r = (await authenticate(ctx, req(username, 'sms password'))) as Required;
    const code = await lastSmsCode(ctx);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++) expect(await verifySmsChallenge(ctx, { challengeId: r.challengeId, code: wrong, ip, service: 'web' })).toMatchObject({ ok: false });
    expect(await verifySmsChallenge(ctx, { challengeId: r.challengeId, code, ip, service: 'web' })).toEqual({ ok: false, reason: 'failed' });
    expect(await getSmsChallenge(ctx, r.challengeId)).toMatchObject({ status: 'void', attemptsLeft: 0 });
  });

  it('an expired code fails', async () => {
    const { username } = await smsUser();
    const r = (await authenticate(ctx, req(username, 'sms password'))) as Required;
    const code = await lastSmsCode(ctx);
    await ctx.db.update(smsChallenges).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(smsChallenges.id, r.challengeId));
    expect(await verifySmsChallenge(ctx, { challengeId: r.challengeId, code, ip, service: 'web' })).toEqual({ ok: false, reason: 'failed' });
  });

  it('a new code voids the previous one; the page shows hint, time left and the resend cool-down', async () => {
    const { username } = await smsUser();
    const first = (await authenticate(ctx, req(username, 'sms password'))) as Required;
    const oldCode = await lastSmsCode(ctx);
    const status = await getSmsChallenge(ctx, first.challengeId);
    expect(status).toMatchObject({ status: 'pending', sentToHint: '56', attemptsLeft: 5 });
    expect(status!.resendAfterSeconds).toBeGreaterThan(0);
    // Past the sender's cool-down:
    await ctx.db.execute(sql`update sms_messages set created_at = created_at - interval '2 minutes'`);
    await ctx.db.update(smsChallenges).set({ createdAt: new Date(Date.now() - 120_000) }).where(eq(smsChallenges.id, first.challengeId));
    const second = (await resendSmsChallenge(ctx, { challengeId: first.challengeId, ip })) as Required;
    expect(second).toMatchObject({ reason: 'sms-required' });
    expect(second.challengeId).not.toBe(first.challengeId);
    const newCode = await lastSmsCode(ctx);
    if (oldCode !== newCode) expect(await verifySmsChallenge(ctx, { challengeId: first.challengeId, code: oldCode, ip, service: 'web' })).toMatchObject({ ok: false });
    expect(await verifySmsChallenge(ctx, { challengeId: second.challengeId, code: newCode, ip, service: 'web' })).toMatchObject({ ok: true });
  });

  it('asking again within the cool-down keeps the code already sent usable and sends nothing', async () => {
    const { username } = await smsUser();
    const first = (await authenticate(ctx, req(username, 'sms password'))) as Required;
    const sent = await countSms(ctx);
    const again = await authenticate(ctx, req(username, 'sms password'));
    expect(await countSms(ctx)).toBe(sent);
    expect(again).toMatchObject({ reason: 'sms-required', challengeId: first.challengeId });
    expect((again as Required).resendAfterSeconds).toBeGreaterThan(0);
  });

  it('without credits or without a mobile number the login explains why, and nothing crashes', async () => {
    const poor = await smsUser({ credits: 0 });
    expect(await authenticate(ctx, req(poor.username, 'sms password'))).toMatchObject({ ok: false, reason: 'sms-unavailable', code: 'SMS_NO_CREDITS' });
    n++;
    const noPhone = await smsUser({ mobile: null });
    const r = await authenticate(ctx, req(noPhone.username, 'sms password'));
    expect(r).toMatchObject({ ok: false, reason: 'sms-unavailable', code: 'SMS_NO_MOBILE' });
    expect((r as { message: string }).message).toMatch(/mobile/i);
  });

  it('the code goes to the default personality’s number as it is at send time', async () => {
    const { username, user } = await smsUser();
    const p = (await getDefaultPersonality(ctx, user.id))!;
    await setMobile(ctx, { userId: user.id, personalityId: p.id, mobile: '+33 6 12 34 56 78' });
    expect(await authenticate(ctx, req(username, 'sms password'))).toMatchObject({ reason: 'sms-required', sentToHint: '78' });
  });

  describe('mail clients', () => {
    it('IMAP with the SMS password alone sends the code and fails saying so; password immediately followed by the code succeeds', async () => {
      const { username, login } = await smsUser();
      expect(await authenticate(ctx, req(username, 'sms password', 'imap'))).toMatchObject({ ok: false, reason: 'sms-required' });
      const code = await lastSmsCode(ctx);
      expect(await authenticate(ctx, req(username, `sms password${code}`, 'imap'))).toMatchObject({ ok: true, method: 'sms', loginId: login.id, restricted: true });
      // Single use, and not cached: the same string again fails.
      expect(await authenticate(ctx, req(username, `sms password${code}`, 'imap'))).toMatchObject({ ok: false, reason: 'failed' });
    });

    it('password + wrong code fails, and the code is not accepted after the fifth wrong try', async () => {
      const { username } = await smsUser();
      await authenticate(ctx, req(username, 'sms password', 'smtp'));
      const code = await lastSmsCode(ctx);
      const wrong = code === '999999' ? '999998' : '999999';
      for (let i = 0; i < 5; i++) expect(await authenticate(ctx, req(username, `sms password${wrong}`, 'smtp'))).toMatchObject({ ok: false, reason: 'failed' });
      ip = '198.51.100.250';
      expect(await authenticate(ctx, req(username, `sms password${code}`, 'smtp'))).toMatchObject({ ok: false });
    });

    it('a code without the SMS password opens nothing', async () => {
      const { username } = await smsUser();
      await authenticate(ctx, req(username, 'sms password', 'imap'));
      const code = await lastSmsCode(ctx);
      expect(await authenticate(ctx, req(username, `main password!${code}`, 'imap'))).toMatchObject({ ok: false, reason: 'failed' });
      expect(await authenticate(ctx, req(username, code, 'imap'))).toMatchObject({ ok: false, reason: 'failed' });
    });
  });
});
