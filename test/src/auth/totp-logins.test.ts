// Authenticator-app logins in the accounts core (both databases): password + code for mail clients, the
// web's second step, drift, replay, throttling, the sealed secret, and the cap shared with chosen passwords.
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTotpLogin, createUserChosenLogin, listAltLogins, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { hotp, timeStep, totpCode } from '../../../src/auth/totp.js';
import { verifyTotpStep } from '../../../src/auth/totp-logins.js';
import { altLogins } from '../../../src/db/schema.js';
import { isPosternError } from '../../../src/errors.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;
let ip = 1;
const nextIp = () => `198.51.100.${ip++}`;
/** A fixed moment in the middle of a time step, so "±1 step" is never a boundary accident. */
const AT = new Date(1_900_000_015_000);

beforeAll(async () => {
  ctx = await createTestContext();
  ctx.clock = () => AT;
});
afterAll(() => ctx.close());

async function totpUser(prefix: string, options: { restricted?: boolean; services?: string[] } = {}) {
  const username = `${prefix}${crypto.randomBytes(3).toString('hex')}`;
  const user = await createUser(ctx, { username, password: `main-${username}` });
  const secret = crypto.randomBytes(20);
  const login = await createTotpLogin(ctx, { userId: user.id, secret: 'phone pass 1', totpSecret: secret, ...options });
  const code = (steps = 0) => hotp(secret, timeStep(AT) + steps);
  return { username, userId: user.id, login, secret, code };
}

describe('mail clients: the password immediately followed by the code', () => {
  it('opens a session once per code; the same code again is refused', async () => {
    const u = await totpUser('imap');
    const first = await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code()}`, service: 'imap', ip: nextIp() });
    expect(first).toMatchObject({ ok: true, method: 'totp', loginId: u.login.id, restricted: false });
    const replay = await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code()}`, service: 'imap', ip: nextIp() });
    expect(replay).toEqual({ ok: false, reason: 'failed' });
    // An earlier code is refused too once a later step was used; the next step's code works.
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code(-1)}`, service: 'smtp', ip: nextIp() })).toEqual({ ok: false, reason: 'failed' });
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code(1)}`, service: 'smtp', ip: nextIp() })).toMatchObject({ ok: true, method: 'totp' });
  });

  it('accepts a phone one step behind or ahead, refuses two steps', async () => {
    for (const [steps, ok] of [[-1, true], [1, true], [-2, false], [2, false]] as const) {
      const u = await totpUser('drift');
      const r = await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code(steps)}`, service: 'imap', ip: nextIp() });
      expect(r.ok, `${steps} steps`).toBe(ok);
    }
  });

  it('the password alone, the code alone, or a wrong password with the right code open nothing', async () => {
    const u = await totpUser('alone');
    for (const secret of ['phone pass 1', u.code(), `phone pass 2${u.code()}`, `phone pass 1${u.code()}0`])
      expect(await authenticate(ctx, { username: u.username, secret, service: 'imap', ip: nextIp() }), secret).toEqual({ ok: false, reason: 'failed' });
    // Nothing was used up by those tries.
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code()}`, service: 'imap', ip: nextIp() })).toMatchObject({ ok: true });
  });

  it('a restricted TOTP login opens restricted sessions; a revoked one opens none', async () => {
    const u = await totpUser('restr', { restricted: true });
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code()}`, service: 'imap', ip: nextIp() })).toMatchObject({ ok: true, restricted: true });
    await revokeAltLogin(ctx, { loginId: u.login.id });
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code(1)}`, service: 'imap', ip: nextIp() })).toEqual({ ok: false, reason: 'failed' });
  });

  it('wrong codes are throttled like every other secret', async () => {
    const u = await totpUser('guess');
    const from = nextIp();
    const wrong = u.code() === '000000' ? '000001' : '000000';
    let last;
    for (let i = 0; i < 7; i++) last = await authenticate(ctx, { username: u.username, secret: `phone pass 1${wrong}`, service: 'imap', ip: from });
    expect(last).toMatchObject({ ok: false, reason: 'throttled' });
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code()}`, service: 'imap', ip: from })).toMatchObject({ ok: false, reason: 'throttled' });
  });
});

describe('the web: password, then the code on a second page', () => {
  it('the password answers totp-required; the code then opens a session once, and the page cannot be replayed', async () => {
    const u = await totpUser('web');
    const first = await authenticate(ctx, { username: u.username, secret: 'phone pass 1', service: 'web', ip: nextIp() });
    expect(first).toEqual({ ok: false, reason: 'totp-required', loginId: u.login.id, lastStep: null });
    if (first.ok || first.reason !== 'totp-required') throw new Error('unreachable');
    const step = { loginId: first.loginId, lastStep: first.lastStep, ip: nextIp(), service: 'web' as const };
    expect(await verifyTotpStep(ctx, { ...step, code: u.code(2) })).toEqual({ ok: false, reason: 'failed' });
    expect(await verifyTotpStep(ctx, { ...step, code: u.code() })).toMatchObject({ ok: true, method: 'totp', loginId: u.login.id, userId: u.userId });
    // The same page state again, even with a later code, is void: the login has moved on.
    expect(await verifyTotpStep(ctx, { ...step, code: u.code(1) })).toEqual({ ok: false, reason: 'failed' });
    const events = (await listAuditEvents(ctx.db, { userId: u.userId })).map((e) => [e.event, e.details.method, e.details.reason ?? null]);
    expect(events).toEqual(expect.arrayContaining([['login.succeeded', 'totp', null], ['login.failed', 'totp', 'totp-code-wrong']]));
  });

  it('the web never takes password and code in one field', async () => {
    const u = await totpUser('oneshot');
    expect(await authenticate(ctx, { username: u.username, secret: `phone pass 1${u.code()}`, service: 'web', ip: nextIp() })).toEqual({ ok: false, reason: 'failed' });
  });

  it('a login not allowed for the web answers the generic failure at the password', async () => {
    const u = await totpUser('noweb', { services: ['imap'] });
    expect(await authenticate(ctx, { username: u.username, secret: 'phone pass 1', service: 'web', ip: nextIp() })).toEqual({ ok: false, reason: 'failed' });
  });
});

describe('storage and limits', () => {
  it('keeps the secret sealed: neither the raw bytes nor base32 are in the row, and listings never carry it', async () => {
    const u = await totpUser('sealed');
    const [row] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, u.login.id));
    const stored = JSON.stringify(row);
    expect(row!.totpSecret).toBeTruthy();
    for (const form of [u.secret.toString('hex'), u.secret.toString('base64'), u.secret.toString('base64url')]) expect(stored).not.toContain(form);
    const [summary] = await listAltLogins(ctx, u.userId);
    expect(summary).not.toHaveProperty('totpSecret');
    expect(totpCode(u.secret, AT)).toBe(u.code());
  });

  it('counts toward the five chosen passwords, since each costs a verification per failed login', async () => {
    const u = await totpUser('cap');
    for (let i = 0; i < 4; i++) await createUserChosenLogin(ctx, { userId: u.userId, kind: 'password', secret: `alternate ${i} pass` });
    const sixth = await createTotpLogin(ctx, { userId: u.userId, secret: 'phone pass 9', totpSecret: crypto.randomBytes(20) }).catch((e: unknown) => e);
    expect(isPosternError(sixth, 'TOO_MANY_LOGINS')).toBe(true);
  });

  it('refuses the main password as the TOTP login password', async () => {
    const username = `same${crypto.randomBytes(3).toString('hex')}`;
    const user = await createUser(ctx, { username, password: `main-${username}` });
    const e = await createTotpLogin(ctx, { userId: user.id, secret: `main-${username}`, totpSecret: crypto.randomBytes(20) }).catch((x: unknown) => x);
    expect(isPosternError(e, 'ALTERNATE_SAME_AS_MAIN')).toBe(true);
  });
});
