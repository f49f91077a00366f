import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_USER_CHOSEN_ALTERNATES,
  createAppPassword,
  createOneTimeList,
  createUserChosenLogin,
  listAltLogins,
  parseServices,
  revokeAltLogin,
} from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { altLogins, otpCodes } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('alternative logins', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  const user = (name: string) => createUser(ctx, { username: name, password: 'main password' });

  it('parses services and refuses unknown ones', () => {
    expect(parseServices('smtp, imap,imap')).toEqual(['imap', 'smtp']);
    expect(() => parseServices('web,pop3')).toThrow(expect.objectContaining({ code: 'LOGIN_SERVICES_INVALID' }));
    expect(() => parseServices('')).toThrow(expect.objectContaining({ code: 'LOGIN_SERVICES_INVALID' }));
  });

  it('a one-time list has N numbered codes, stored only as keyed hashes', async () => {
    const u = await user('olga');
    const { login, codes } = await createOneTimeList(ctx, { userId: u.id, count: 25 });
    expect(codes.map((c) => c.n)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const stored = await ctx.db.select().from(otpCodes);
    expect(stored).toHaveLength(25);
    const dump = JSON.stringify(stored);
    for (const c of codes) expect(dump).not.toContain(c.code.replace('-', ''));
    expect((await listAltLogins(ctx, u.id)).find((l) => l.id === login.id)).toMatchObject({ remainingCodes: 25, totalCodes: 25, services: ['web'] });
  });

  it('generating a new one-time list voids the old one', async () => {
    const u = await user('pete');
    const first = await createOneTimeList(ctx, { userId: u.id, count: 3 });
    const second = await createOneTimeList(ctx, { userId: u.id, count: 3 });
    const active = await listAltLogins(ctx, u.id);
    expect(active.map((l) => l.id)).toEqual([second.login.id]);
    const all = await listAltLogins(ctx, u.id, { includeRevoked: true });
    expect(all.find((l) => l.id === first.login.id)!.revokedAt).not.toBeNull();
  });

  it('an app password is shown once and only its keyed hash is stored', async () => {
    const u = await user('quentin');
    const { login, secret } = await createAppPassword(ctx, { userId: u.id, label: 'Thunderbird', restricted: true });
    expect(login).toMatchObject({ kind: 'app', label: 'Thunderbird', restricted: true, services: ['imap', 'smtp'] });
    const rows = await ctx.db.select().from(altLogins);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(JSON.stringify(rows)).not.toContain(secret.replace(/-/g, ''));
  });

  it('refuses an alternate password equal to the main password (it would not be restricted)', async () => {
    const u = await user('rita');
    await expect(createUserChosenLogin(ctx, { userId: u.id, kind: 'password', secret: 'main password', restricted: true })).rejects.toMatchObject({
      code: 'ALTERNATE_SAME_AS_MAIN',
    });
  });

  it(`caps user-chosen alternates at ${MAX_USER_CHOSEN_ALTERNATES}, the bound on argon2 work per login`, async () => {
    const u = await user('steve');
    const made = [];
    for (let i = 0; i < MAX_USER_CHOSEN_ALTERNATES; i++)
      made.push(await createUserChosenLogin(ctx, { userId: u.id, kind: i % 2 ? 'sms' : 'password', secret: `alternate ${i}` }));
    await expect(createUserChosenLogin(ctx, { userId: u.id, kind: 'password', secret: 'one too many' })).rejects.toMatchObject({ code: 'TOO_MANY_LOGINS' });
    await revokeAltLogin(ctx, { loginId: made[0]!.id, userId: u.id });
    await createUserChosenLogin(ctx, { userId: u.id, kind: 'password', secret: 'one too many' });
  });

  it("a user cannot revoke someone else's login; revoking is audited without secrets", async () => {
    const a = await user('tom');
    const b = await user('uma');
    const { login, secret } = await createAppPassword(ctx, { userId: b.id });
    await expect(revokeAltLogin(ctx, { loginId: login.id, userId: a.id })).rejects.toMatchObject({ code: 'LOGIN_NOT_FOUND' });
    await revokeAltLogin(ctx, { loginId: login.id, userId: b.id });
    const events = await listAuditEvents(ctx.db, { userId: b.id, events: ['altlogin.created', 'altlogin.revoked'] });
    expect(events.map((e) => e.event)).toEqual(['altlogin.revoked', 'altlogin.created']);
    expect(JSON.stringify(events)).not.toContain(secret);
  });
});
