import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import {
  createPersonality,
  deletePersonality,
  getDefaultPersonality,
  listPersonalities,
  normalizeMobile,
  setDefaultPersonality,
  setMobile,
} from '../../../src/accounts/personalities.js';
import { listAuditEvents } from '../../../src/audit.js';
import { isPosternError } from '../../../src/errors.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('personalities', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('stores mobile numbers as E.164 whatever the spacing', () => {
    expect(normalizeMobile('+44 7911 123456')).toBe('+447911123456');
    expect(normalizeMobile(' +1 (202) 555-0143 ')).toBe('+12025550143');
  });

  it('refuses numbers without a country code, too short, or with letters, with a readable error', () => {
    for (const bad of ['07911 123456', '+44 12', 'call me', '+999 123456789', '']) {
      let error: unknown;
      try {
        normalizeMobile(bad);
      } catch (e) {
        error = e;
      }
      expect(isPosternError(error, 'MOBILE_INVALID'), bad).toBe(true);
    }
  });

  it('never accepts anything that is not E.164 (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        try {
          expect(normalizeMobile(s)).toMatch(/^\+[1-9]\d{6,14}$/);
        } catch (e) {
          expect(isPosternError(e, 'MOBILE_INVALID')).toBe(true);
        }
      }),
    );
  });

  it('a new user gets one default personality named after them, with the given email and mobile', async () => {
    const user = await createUser(ctx, { username: 'pia', password: 'correct horse', email: 'pia@example.org', mobile: '+44 7911 123456' });
    const p = await getDefaultPersonality(ctx, user.id);
    expect(p).toMatchObject({ name: 'pia', email: 'pia@example.org', mobile: '+447911123456', isDefault: true });
  });

  it('keeps exactly one default when another is chosen or created as default', async () => {
    const user = await createUser(ctx, { username: 'quinn', password: 'correct horse' });
    const work = await createPersonality(ctx, { userId: user.id, name: 'Quinn at work', email: 'q@work.example' });
    expect(work.isDefault).toBe(false);
    await setDefaultPersonality(ctx, user.id, work.id);
    let all = await listPersonalities(ctx, user.id);
    expect(all.filter((p) => p.isDefault).map((p) => p.id)).toEqual([work.id]);
    const home = await createPersonality(ctx, { userId: user.id, name: 'Home', email: 'q@home.example', isDefault: true });
    all = await listPersonalities(ctx, user.id);
    expect(all.filter((p) => p.isDefault).map((p) => p.id)).toEqual([home.id]);
  });

  it("cannot make another user's personality the default, nor delete the default", async () => {
    const a = await createUser(ctx, { username: 'rose', password: 'correct horse' });
    const b = await createUser(ctx, { username: 'sam', password: 'correct horse' });
    const bDefault = (await getDefaultPersonality(ctx, b.id))!;
    await expect(setDefaultPersonality(ctx, a.id, bDefault.id)).rejects.toMatchObject({ code: 'PERSONALITY_NOT_FOUND' });
    await expect(deletePersonality(ctx, b.id, bDefault.id)).rejects.toMatchObject({ code: 'PERSONALITY_IS_DEFAULT' });
  });

  it('audits a mobile number change with the last two digits only', async () => {
    const user = await createUser(ctx, { username: 'tara', password: 'correct horse', mobile: '+447911123456' });
    const p = (await getDefaultPersonality(ctx, user.id))!;
    await setMobile(ctx, { userId: user.id, personalityId: p.id, mobile: '+33 6 12 34 56 78' });
    const [event] = await listAuditEvents(ctx.db, { userId: user.id, events: ['personality.mobile-changed'], limit: 1 });
    expect(event!.details).toMatchObject({ before: '56', after: '78' });
    expect(JSON.stringify(event)).not.toMatch(/612345678|7911123456/);
  });
});
