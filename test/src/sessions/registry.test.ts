/**
 * The live-session registry against the database alone (no sockets): ending by login, by user and by
 * password change, on two instances sharing one database, the race with a login that was being verified,
 * the re-check that catches a missed NOTIFY, and the batched rows with their heartbeat.
 */
import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { createUser, setPassword, setUserDisabled } from '../../../src/accounts/users.js';
import { createContext, type AppContext } from '../../../src/context.js';
import { openDatabase, type Database } from '../../../src/db/client.js';
import { altLogins, liveInstances, liveSessions } from '../../../src/db/schema.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createWebSession, validateWebSession } from '../../../src/auth/web-sessions.js';
import { listSessions, recheckAll, type LiveSessionInfo } from '../../../src/sessions/index.js';
import { parseEndMessage } from '../../../src/sessions/registry.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let a: TestContext;
let b: AppContext;
let second: Database | null = null;

beforeAll(async () => {
  a = await createTestContext();
  // A second instance: its own connection to the same PostgreSQL database, or (PGlite) the same handle.
  second = a.testDb.url ? await openDatabase({ url: a.testDb.url, max: 4 }) : null;
  b = await createContext(a.config, { database: second ?? a.database, secretKey: a.secretKey });
});
afterAll(async () => {
  await b.liveSessions.close();
  await second?.close();
  await a.close();
});

async function newUser() {
  const user = await createUser(a, { username: `s${crypto.randomBytes(4).toString('hex')}`, password: 'main password 1' });
  const app = await createAppPassword(a, { userId: user.id, services: ['imap'] });
  return { user, login: app.login };
}

function info(userId: number, loginId: number | null, extra: Partial<LiveSessionInfo> = {}): LiveSessionInfo {
  const now = new Date();
  return { protocol: 'imap', userId, loginId, loginKind: loginId ? 'app' : 'main', restricted: false, clientIp: '127.0.0.1', startedAt: now, authStartedAt: now, ...extra };
}

/** Registers a session and records when and why it ended. */
function track(ctx: AppContext, i: LiveSessionInfo) {
  const result: { reason: string | null; at: number } = { reason: null, at: 0 };
  const handle = ctx.liveSessions.register(i, (reason) => {
    result.reason = reason;
    result.at = Date.now();
  });
  return Object.assign(result, { handle });
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the registration's own database check finish. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('live sessions follow their login', () => {
  it('revoking a login on one instance ends its sessions on the other within a second, and only those', async () => {
    const { user, login } = await newUser();
    const other = await createAppPassword(a, { userId: user.id, services: ['imap'] });
    const onB = track(b, info(user.id, login.id));
    const keep = track(b, info(user.id, other.login.id));
    const main = track(b, info(user.id, null));
    await settle();
    const t0 = Date.now();
    await revokeAltLogin(a, { loginId: login.id });
    await until(() => onB.reason !== null);
    expect(onB.at - t0).toBeLessThan(1000);
    expect(onB.reason).toMatch(/revoked/);
    await settle();
    expect(keep.reason).toBeNull();
    expect(main.reason).toBeNull();
  });

  it('disabling the user ends every session of the user; other users keep theirs', async () => {
    const { user, login } = await newUser();
    const bystander = await newUser();
    const s1 = track(b, info(user.id, login.id));
    const s2 = track(a, info(user.id, null, { protocol: 'smtp' }));
    const s3 = track(b, info(bystander.user.id, bystander.login.id));
    await settle();
    await setUserDisabled(a, { userId: user.id, disabled: true });
    await until(() => s1.reason !== null && s2.reason !== null);
    expect(s1.reason).toMatch(/disabled/);
    await settle();
    expect(s3.reason).toBeNull();
  });

  it('a password change ends main-password sessions and every web session but the one kept', async () => {
    const { user, login } = await newUser();
    const main = track(b, info(user.id, null));
    const app = track(b, info(user.id, login.id));
    const kept = await createWebSession(a, { userId: user.id, loginId: null, method: 'main', restricted: false });
    const other = await createWebSession(a, { userId: user.id, loginId: login.id, method: 'app', restricted: false });
    await settle();
    await setPassword(a, { userId: user.id, password: 'new main password', keepWebSessionId: kept.id });
    await until(() => main.reason !== null);
    expect(main.reason).toMatch(/password/);
    expect((await validateWebSession(a, kept.token)).ok).toBe(true);
    expect(await validateWebSession(a, other.token)).toMatchObject({ ok: false, reason: 'revoked' });
    await settle();
    expect(app.reason).toBeNull();
  });

  it('a revocation while the login was being verified ends the session as soon as it registers', async () => {
    const { user, login } = await newUser();
    const authStartedAt = new Date();
    await revokeAltLogin(b, { loginId: login.id }); // its NOTIFY came before the session existed
    const late = track(a, info(user.id, login.id, { authStartedAt }));
    await until(() => late.reason !== null, 1000);
    expect(late.reason).toMatch(/revoked/);
  });

  it('a password change while a main-password login was being verified ends it too; a login with the new password stays', async () => {
    const { user } = await newUser();
    // The old password is verified (its version read), then the change commits, then the session registers.
    const verifiedOld = await authenticate(a, { username: user.username, secret: 'main password 1', service: 'imap', ip: '127.0.0.1' });
    await setPassword(b, { userId: user.id, password: 'changed meanwhile' });
    const verifiedNew = await authenticate(a, { username: user.username, secret: 'changed meanwhile', service: 'imap', ip: '127.0.0.1' });
    if (!verifiedOld.ok || !verifiedNew.ok) throw new Error('login failed');
    // Both registered before the change's NOTIFY can have reached instance A.
    const raced = track(a, info(user.id, null, { passwordChangedAt: verifiedOld.passwordChangedAt }));
    const fresh = track(a, info(user.id, null, { passwordChangedAt: verifiedNew.passwordChangedAt }));
    await until(() => raced.reason !== null, 1000);
    expect(raced.reason).toMatch(/password/);
    await settle();
    expect(fresh.reason).toBeNull();
  });

  it('a change whose NOTIFY was missed is caught by recheckAll()', async () => {
    const { user, login } = await newUser();
    const s = track(a, info(user.id, login.id));
    await settle();
    // As if revoked while this instance's LISTEN connection was down: the row changes, no NOTIFY arrives.
    await a.db.update(altLogins).set({ revokedAt: sql`now()` }).where(eq(altLogins.id, login.id));
    await settle();
    expect(s.reason).toBeNull();
    expect(await recheckAll()).toBeGreaterThanOrEqual(1);
    expect(s.reason).toMatch(/revoked/);
  });

  it('a 1-hour session ends when its window does', async () => {
    const { user, login } = await newUser();
    const s = track(a, info(user.id, login.id, { validUntil: new Date(Date.now() + 200) }));
    await until(() => s.reason !== null, 2000);
    expect(s.reason).toMatch(/1-hour/);
  });
});

describe('rows for Options → Security', () => {
  it('lists every instance’s sessions, ignores a dead instance, and forgets unregistered ones', async () => {
    const { user, login } = await newUser();
    const onA = track(a, info(user.id, login.id, { client: 'Thunderbird\u0000' }));
    const onB = track(b, info(user.id, null, { protocol: 'smtp' }));
    await settle();
    await a.liveSessions.flush();
    await b.liveSessions.flush();
    const ids = (await listSessions(a, user.id)).map((s) => s.id).sort();
    expect(ids).toEqual([onA.handle.id, onB.handle.id].sort());
    const [row] = await a.db.select().from(liveSessions).where(eq(liveSessions.id, onA.handle.id));
    expect(row).toMatchObject({ userId: user.id, loginId: login.id, protocol: 'imap', clientName: 'Thunderbird' });

    // Instance B stops beating (crashed): its rows no longer count.
    await a.db.update(liveInstances).set({ heartbeatAt: sql`now() - interval '1 hour'` }).where(eq(liveInstances.id, b.liveSessions.instanceId));
    expect((await listSessions(a, user.id)).map((s) => s.id)).toEqual([onA.handle.id]);

    onA.handle.unregister();
    await a.liveSessions.flush();
    expect(await a.db.select().from(liveSessions).where(eq(liveSessions.id, onA.handle.id))).toEqual([]);
    // B's next flush notices its heartbeat was stale and writes on.
    await b.liveSessions.flush();
    expect((await listSessions(a, user.id)).map((s) => s.id)).toEqual([onB.handle.id]);
  });

  it('counts its sessions by protocol and kind for the metrics gauge, restricted apart', async () => {
    const { user, login } = await newUser();
    const before = new Map(b.liveSessions.counts().map((r) => [`${r.protocol} ${r.kind}`, r.count]));
    const s1 = track(b, info(user.id, login.id));
    const s2 = track(b, info(user.id, login.id, { restricted: true }));
    const s3 = track(b, info(user.id, null, { protocol: 'smtp' }));
    const after = new Map(b.liveSessions.counts().map((r) => [`${r.protocol} ${r.kind}`, r.count]));
    const grew = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect([grew('imap app'), grew('imap app-restricted'), grew('smtp main')]).toEqual([1, 1, 1]);
    for (const s of [s1, s2, s3]) s.handle.unregister();
    expect(b.liveSessions.counts().reduce((n, r) => n + r.count, 0)).toBe([...before.values()].reduce((n, c) => n + c, 0));
  });
});

describe('the NOTIFY payload', () => {
  it('carries a single-session selector (Options → Security "End") and refuses one that is not a string', () => {
    const payload = (sessionId: unknown) => JSON.stringify({ origin: 'x', reason: 'r', selector: { userId: 7, sessionId } });
    expect(parseEndMessage(payload('abcdefghijklmnop'))?.selector).toMatchObject({ userId: 7, sessionId: 'abcdefghijklmnop' });
    expect(parseEndMessage(payload(42))).toBeNull();
  });
});
