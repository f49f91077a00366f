import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addGroupMember, createGroup, setGroupAllowSms } from '../../src/accounts/groups.js';
import { createUser, disableUser } from '../../src/accounts/users.js';
import { createUserChosenLogin, revokeAltLogin } from '../../src/accounts/alt-logins.js';
import {
  createWebSession,
  hasRecentStepUp,
  listActiveWebSessions,
  revokeOtherWebSessions,
  revokeWebSession,
  rotateWebSession,
  validateWebSession,
} from '../../src/auth/web-sessions.js';
import { webSessions } from '../../src/db/schema.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let userId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  userId = (await createUser(ctx, { username: 'sam', password: 'main password 1' })).id;
});
afterAll(() => ctx.close());

const main = () => ({ userId, loginId: null, method: 'main' as const, restricted: false });

async function age(id: string, column: 'last_seen_at' | 'expires_at' | 'created_at', seconds: number) {
  await ctx.db.execute(sql`update web_sessions set ${sql.raw(column)} = now() - make_interval(secs => ${seconds}) where id = ${id}`);
}

describe('web sessions', () => {
  it('issues id.secret tokens with at least 128 random bits and stores only a SHA-256 of the secret', async () => {
    const { token, id } = await createWebSession(ctx, main());
    const [idPart, secret] = token.split('.');
    expect(Buffer.from(idPart!, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(secret!, 'base64url').length).toBeGreaterThanOrEqual(16);
    const [row] = await ctx.db.select().from(webSessions).where(eq(webSessions.id, id));
    expect(row!.secretHash).toBe(crypto.createHash('sha256').update(secret!).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('reads the user\'s business or family with the session, and sees a change at the next request', async () => {
    expect(await validateWebSession(ctx, (await createWebSession(ctx, main())).token)).toMatchObject({ ok: true, group: null });
    const member = await createUser(ctx, { username: 'dana', password: 'main password 2' });
    const group = await createGroup(ctx, { name: 'Dana and Co', kind: 'business' });
    await addGroupMember(ctx, { groupId: group.id, userId: member.id, isAdmin: true });
    const { token } = await createWebSession(ctx, { ...main(), userId: member.id });
    expect(await validateWebSession(ctx, token)).toMatchObject({
      ok: true,
      group: { id: group.id, name: 'Dana and Co', kind: 'business', allowSms: false, isAdmin: true },
    });
    await setGroupAllowSms(ctx, { groupId: group.id, allowSms: true });
    expect(await validateWebSession(ctx, token)).toMatchObject({ ok: true, group: { allowSms: true } });
  });

  it('accepts the token and refuses the same id with another secret', async () => {
    const { token, id } = await createWebSession(ctx, main());
    expect((await validateWebSession(ctx, token)).ok).toBe(true);
    const forged = `${id}.${crypto.randomBytes(32).toString('base64url')}`;
    expect(await validateWebSession(ctx, forged)).toMatchObject({ ok: false, reason: 'bad-secret' });
    expect(await validateWebSession(ctx, 'garbage')).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('ends a main-password session after 30 idle minutes, and a one-time-code session after 10', async () => {
    const a = await createWebSession(ctx, main());
    const b = await createWebSession(ctx, { ...main(), method: 'otp' });
    await age(a.id, 'last_seen_at', 11 * 60);
    await age(b.id, 'last_seen_at', 11 * 60);
    expect((await validateWebSession(ctx, a.token)).ok).toBe(true);
    expect(await validateWebSession(ctx, b.token)).toMatchObject({ ok: false, reason: 'idle' });
    await age(a.id, 'last_seen_at', 31 * 60);
    expect(await validateWebSession(ctx, a.token)).toMatchObject({ ok: false, reason: 'idle' });
  });

  it('slides the idle timeout, writing lastSeenAt at most once a minute', async () => {
    const s = await createWebSession(ctx, { ...main(), method: 'sms' });
    await age(s.id, 'last_seen_at', 30);
    const before = (await ctx.db.select().from(webSessions).where(eq(webSessions.id, s.id)))[0]!.lastSeenAt;
    await validateWebSession(ctx, s.token);
    expect((await ctx.db.select().from(webSessions).where(eq(webSessions.id, s.id)))[0]!.lastSeenAt).toEqual(before);
    await age(s.id, 'last_seen_at', 9 * 60);
    await validateWebSession(ctx, s.token);
    const touched = (await ctx.db.select().from(webSessions).where(eq(webSessions.id, s.id)))[0]!.lastSeenAt;
    expect(Date.now() - touched.getTime()).toBeLessThan(60_000);
  });

  it('ends any session at its absolute lifetime even when used constantly', async () => {
    const s = await createWebSession(ctx, main());
    await age(s.id, 'expires_at', 1);
    expect(await validateWebSession(ctx, s.token)).toMatchObject({ ok: false, reason: 'expired', userId });
  });

  it('refuses a token after logout (revocation) and names the user for the audit', async () => {
    const s = await createWebSession(ctx, main());
    expect(await revokeWebSession(ctx, s.id)).toBe(true);
    expect(await validateWebSession(ctx, s.token)).toMatchObject({ ok: false, reason: 'revoked', userId });
  });

  it('signs out everywhere else but keeps the current session', async () => {
    const keep = await createWebSession(ctx, main());
    const other = await createWebSession(ctx, main());
    expect(await revokeOtherWebSessions(ctx, userId, keep.id)).toBeGreaterThanOrEqual(1);
    expect((await validateWebSession(ctx, keep.token)).ok).toBe(true);
    expect((await validateWebSession(ctx, other.token)).ok).toBe(false);
    expect((await listActiveWebSessions(ctx, userId)).map((s) => s.id)).toEqual([keep.id]);
  });

  it('step-up replaces the token, keeps the absolute expiry and opens a 5-minute window', async () => {
    const s = await createWebSession(ctx, main());
    const lookup = await validateWebSession(ctx, s.token);
    if (!lookup.ok) throw new Error('expected a session');
    expect(hasRecentStepUp(lookup.session)).toBe(false);
    const next = await rotateWebSession(ctx, lookup.session, { reauthenticated: true });
    expect((await validateWebSession(ctx, s.token)).ok).toBe(false);
    const after = await validateWebSession(ctx, next.token);
    if (!after.ok) throw new Error('expected the new session');
    expect(after.session.expiresAt).toEqual(lookup.session.expiresAt);
    expect(after.session.csrfToken).not.toBe(lookup.session.csrfToken);
    expect(hasRecentStepUp(after.session)).toBe(true);
    expect(hasRecentStepUp(after.session, new Date(Date.now() + 5 * 60_000 + 1000))).toBe(false);
  });

  it('ends sessions made with an alternative login when that login is revoked', async () => {
    const login = await createUserChosenLogin(ctx, { userId, kind: 'password', secret: 'alternate pass 1' });
    const s = await createWebSession(ctx, { userId, loginId: login.id, method: 'password', restricted: true });
    expect((await validateWebSession(ctx, s.token)).ok).toBe(true);
    await revokeAltLogin(ctx, { loginId: login.id, userId });
    expect(await validateWebSession(ctx, s.token)).toMatchObject({ ok: false, reason: 'login-revoked' });
  });

  it('ends every session of a disabled user at once', async () => {
    const other = await createUser(ctx, { username: 'gone', password: 'main password 2' });
    const s = await createWebSession(ctx, { ...main(), userId: other.id });
    await disableUser(ctx, other.id);
    expect(await validateWebSession(ctx, s.token)).toMatchObject({ ok: false, reason: 'user-disabled' });
  });
});
