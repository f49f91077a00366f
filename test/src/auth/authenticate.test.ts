import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAppPassword, createOneTimeList, createUserChosenLogin, listAltLogins, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { addGroupMember, createGroup } from '../../../src/accounts/groups.js';
import { createUser, setPassword, setUserDisabled } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { getAuthCache } from '../../../src/auth/auth-cache.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import type { AuthRequest } from '../../../src/auth/types.js';
import { throttle } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { withCountingHasher, type CountingHasher } from './fixtures.js';

describe('authenticate', () => {
  let base: TestContext;
  let ctx: TestContext & { hasher: CountingHasher };
  let ip = 1;
  /** A fresh client address per test, so throttling of one test does not leak into the next. */
  const req = (username: string, secret: string, service: AuthRequest['service'] = 'web'): AuthRequest => ({ username, secret, service, ip: `192.0.2.${ip}` });
  const verifications = async (fn: () => Promise<unknown>) => {
    const before = ctx.hasher.verifications;
    await fn();
    return ctx.hasher.verifications - before;
  };

  beforeAll(async () => {
    base = await createTestContext();
    ctx = withCountingHasher(base);
    await createUser(ctx, { username: 'alice', password: 'alice main password' });
  });
  afterAll(() => base.close());
  beforeEach(() => void ip++);

  it('the main password opens an unrestricted session on every service', async () => {
    for (const service of ['web', 'imap', 'smtp'] as const) {
      expect(await authenticate(ctx, req('Alice', 'alice main password', service))).toMatchObject({
        ok: true,
        username: 'alice',
        upstreamUser: 'alice',
        method: 'main',
        loginId: null,
        restricted: false,
      });
    }
  });

  it('unknown user, wrong password, disabled account and a login not allowed for the service fail the same way, each with one argon2 verification', async () => {
    const bob = await createUser(ctx, { username: 'bob', password: 'bob main password' });
    const { secret: app } = await createAppPassword(ctx, { userId: bob.id, services: ['imap'] });
    const carol = await createUser(ctx, { username: 'carol', password: 'carol main password' });
    await setUserDisabled(ctx, { userId: carol.id, disabled: true });
    const cases: AuthRequest[] = [req('nobody', 'whatever123'), req('bob', 'not the password'), req('carol', 'carol main password'), req('bob', app, 'web')];
    const results: unknown[] = [];
    for (const r of cases) {
      const cost = await verifications(async () => results.push(await authenticate(ctx, r)));
      expect(cost, r.username).toBe(1);
    }
    for (const r of results) expect(r).toEqual({ ok: false, reason: 'failed' });
  });

  it('an app password logs a mail client in with no argon2 verification, restricted as created, however it is typed', async () => {
    const u = await createUser(ctx, { username: 'dave', password: 'dave main password' });
    const { login, secret } = await createAppPassword(ctx, { userId: u.id, restricted: true, label: 'phone' });
    let result;
    const cost = await verifications(async () => (result = await authenticate(ctx, req('dave', secret.toLowerCase().replace(/-/g, ''), 'imap'))));
    expect(cost).toBe(0);
    expect(result).toMatchObject({ ok: true, method: 'app', loginId: login.id, restricted: true });
    const [listed] = await listAltLogins(ctx, u.id);
    expect(listed).toMatchObject({ useCount: 1 });
    expect(listed!.lastUsedAt).not.toBeNull();
  });

  it('a one-time code works once, with no argon2 verification, and the remaining count goes down', async () => {
    const u = await createUser(ctx, { username: 'erin', password: 'erin main password' });
    const { login, codes } = await createOneTimeList(ctx, { userId: u.id, count: 5, restricted: true });
    const code = codes[2]!.code;
    let first;
    expect(await verifications(async () => (first = await authenticate(ctx, req('erin', code))))).toBe(0);
    expect(first).toMatchObject({ ok: true, method: 'otp', loginId: login.id, restricted: true });
    expect(await authenticate(ctx, req('erin', code))).toEqual({ ok: false, reason: 'failed' });
    expect((await listAltLogins(ctx, u.id))[0]).toMatchObject({ remainingCodes: 4 });
  });

  it('codes of a revoked or replaced list, or of another user, do not work', async () => {
    const u = await createUser(ctx, { username: 'fay', password: 'fay main password' });
    const v = await createUser(ctx, { username: 'gus', password: 'gus main password' });
    const old = await createOneTimeList(ctx, { userId: u.id, count: 3 });
    await createOneTimeList(ctx, { userId: u.id, count: 3 });
    expect(await authenticate(ctx, req('fay', old.codes[0]!.code))).toMatchObject({ ok: false });
    const current = await createOneTimeList(ctx, { userId: u.id, count: 3 });
    await revokeAltLogin(ctx, { loginId: current.login.id, userId: u.id });
    expect(await authenticate(ctx, req('fay', current.codes[0]!.code))).toMatchObject({ ok: false });
    const gus = await createOneTimeList(ctx, { userId: v.id, count: 3 });
    expect(await authenticate(ctx, req('fay', gus.codes[0]!.code))).toMatchObject({ ok: false });
  });

  it('a web-only one-time code is refused over IMAP and stays usable on the web', async () => {
    const u = await createUser(ctx, { username: 'hana', password: 'hana main password' });
    const { codes } = await createOneTimeList(ctx, { userId: u.id, count: 1 });
    expect(await authenticate(ctx, req('hana', codes[0]!.code, 'imap'))).toMatchObject({ ok: false, reason: 'failed' });
    expect(await authenticate(ctx, req('hana', codes[0]!.code, 'web'))).toMatchObject({ ok: true, method: 'otp' });
  });

  it('a restricted alternate password opens a restricted session, at a cost of two verifications', async () => {
    const u = await createUser(ctx, { username: 'ivan', password: 'ivan main password' });
    const login = await createUserChosenLogin(ctx, { userId: u.id, kind: 'password', secret: 'kiosk password', restricted: true });
    let result;
    expect(await verifications(async () => (result = await authenticate(ctx, req('ivan', 'kiosk password'))))).toBe(2);
    expect(result).toMatchObject({ ok: true, method: 'password', loginId: login.id, restricted: true });
  });

  it('no other string opens a session or uses up a code (property)', async () => {
    const u = await createUser(ctx, { username: 'prop', password: 'prop main password' });
    const { codes } = await createOneTimeList(ctx, { userId: u.id, count: 3, services: ['web', 'imap'] });
    await createAppPassword(ctx, { userId: u.id });
    const known = new Set(['prop main password', ...codes.map((c) => c.code)]);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.stringMatching(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/), fc.stringMatching(/^prop main passwor.?d?$/)), async (secret) => {
        fc.pre(!known.has(secret));
        await ctx.db.delete(throttle); // every run must reach the verification, not the throttle
        expect(await authenticate(ctx, req('prop', secret, 'imap'))).toEqual({ ok: false, reason: 'failed' });
      }),
      { numRuns: 40 },
    );
    expect((await listAltLogins(ctx, u.id)).find((l) => l.kind === 'otp')).toMatchObject({ remainingCodes: 3 });
  });

  it('audits successes and failures with method, service and address, never the secret', async () => {
    const u = await createUser(ctx, { username: 'jo', password: 'jo main password' });
    await authenticate(ctx, req('jo', 'jo main password', 'imap'));
    await authenticate(ctx, req('jo', 'jo wrong password', 'smtp'));
    const events = await listAuditEvents(ctx.db, { userId: u.id, events: ['login.succeeded', 'login.failed'] });
    expect(events.map((e) => [e.event, e.service, e.ip])).toEqual([
      ['login.failed', 'smtp', `192.0.2.${ip}`],
      ['login.succeeded', 'imap', `192.0.2.${ip}`],
    ]);
    expect(events[1]!.details).toMatchObject({ method: 'main', restricted: false });
    expect(JSON.stringify(events)).not.toMatch(/password/);
  });

  it("login events are queryable per group: a member's successes and failures carry the group", async () => {
    const u = await createUser(ctx, { username: 'gwen', password: 'gwen main password' });
    const g = await createGroup(ctx, { name: 'Gwen Family', kind: 'family' });
    await addGroupMember(ctx, { groupId: g.id, userId: u.id, isAdmin: true });
    await authenticate(ctx, req('gwen', 'gwen main password'));
    await authenticate(ctx, req('gwen', 'gwen wrong password'));
    const events = await listAuditEvents(ctx.db, { groupId: g.id, events: ['login.succeeded', 'login.failed'] });
    expect(events.map((e) => [e.event, e.userId])).toEqual([
      ['login.failed', u.id],
      ['login.succeeded', u.id],
    ]);
  });

  it('after repeated failures the account is throttled from that address, even with the right password, and says when to retry', async () => {
    await createUser(ctx, { username: 'kim', password: 'kim main password' });
    for (let i = 0; i < 6; i++) await authenticate(ctx, req('kim', `guess number ${i}`));
    const blocked = await authenticate(ctx, req('kim', 'kim main password'));
    expect(blocked).toMatchObject({ ok: false, reason: 'throttled' });
    expect((blocked as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    // The owner elsewhere is not locked out.
    ip++;
    expect(await authenticate(ctx, req('kim', 'kim main password'))).toMatchObject({ ok: true });
  });

  it('a success resets the failure count for that account and address', async () => {
    await createUser(ctx, { username: 'lee', password: 'lee main password' });
    for (let i = 0; i < 4; i++) await authenticate(ctx, req('lee', `guess ${i}`));
    await authenticate(ctx, req('lee', 'lee main password'));
    const rows = await ctx.db.select().from(throttle).where(eq(throttle.key, `pair:lee|192.0.2.${ip}`));
    expect(rows).toEqual([]);
  });

  describe('cache for mail clients', () => {
    it('a repeated IMAP login with the same password costs no argon2 verification; the web is never cached', async () => {
      await createUser(ctx, { username: 'max', password: 'max main password' });
      expect(await verifications(() => authenticate(ctx, req('max', 'max main password', 'imap')))).toBe(1);
      expect(await verifications(() => authenticate(ctx, req('max', 'max main password', 'imap')))).toBe(0);
      expect(await verifications(() => authenticate(ctx, req('max', 'max main password', 'web')))).toBe(1);
      expect(await verifications(() => authenticate(ctx, req('max', 'max main password', 'web')))).toBe(1);
    });

    it('a wrong password is never answered from the cache', async () => {
      expect(await authenticate(ctx, req('max', 'max main password', 'imap'))).toMatchObject({ ok: true });
      expect(await authenticate(ctx, req('max', 'max main passwore', 'imap'))).toEqual({ ok: false, reason: 'failed' });
    });

    it('changing the password, revoking the login or disabling the user takes effect at once', async () => {
      const u = await createUser(ctx, { username: 'nia', password: 'nia main password' });
      const { login, secret } = await createAppPassword(ctx, { userId: u.id });
      const ok = (s: string) => authenticate(ctx, req('nia', s, 'imap')).then((r) => r.ok);
      expect(await ok('nia main password')).toBe(true);
      expect(await ok(secret)).toBe(true);
      await setPassword(ctx, { userId: u.id, password: 'nia new password' });
      expect(await ok('nia main password')).toBe(false);
      expect(await ok(secret)).toBe(true);
      await revokeAltLogin(ctx, { loginId: login.id, userId: u.id });
      expect(await ok(secret)).toBe(false);
      expect(await ok('nia new password')).toBe(true);
      await setUserDisabled(ctx, { userId: u.id, disabled: true });
      expect(await ok('nia new password')).toBe(false);
    });

    it('keeps no secret in memory: entries are keyed by an HMAC', async () => {
      await authenticate(ctx, req('max', 'max main password', 'smtp'));
      const cache = getAuthCache(ctx) as unknown as { entries: Map<string, unknown> };
      const dump = JSON.stringify([...cache.entries]);
      expect(dump).not.toContain('max main password');
      for (const key of cache.entries.keys()) expect(key).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});
