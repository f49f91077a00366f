/**
 * Issue 11 item 1, as an attacker with a stolen login would try it against the real Dovecot (store-side
 * backstop off: the full master user, so only the gateway protects): the owner revokes the login,
 * disables the account or changes the password, and the thief's open IMAP connection — selected, idling,
 * or on another instance — gets `* BYE` within a second; a STORE \Deleted + EXPUNGE sent after that never
 * reaches the store (checked on the store directly), and the store session is logged out, not parked.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOneTimeList, revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createWebSession, validateWebSession } from '../../../src/auth/web-sessions.js';
import { createContext, type AppContext } from '../../../src/context.js';
import { openDatabase, type Database } from '../../../src/db/client.js';
import { startImapGateway, type RunningImapGateway } from '../../../gateway/imap/server.js';
import { fillMailbox, snapshotMailbox } from '../../helpers/mailstore.js';
import { postern } from '../../src/cli/cli-harness.js';
import { RawClient, createMailUser, startLiveGateway, startStoreProxy, type LiveGateway, type MailUser } from './live-gateway.js';

// The full master user only: the store would expunge whatever the gateway let through.
const FULL_RIGHTS = { UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined };

let live: LiveGateway;
/** A second instance on the same database (PostgreSQL: its own connection; PGlite: the same handle). */
let other: AppContext;
let otherDb: Database | null = null;

beforeAll(async () => {
  live = await startLiveGateway({ env: FULL_RIGHTS, gateway: { sessionReuseMs: 10_000 } });
  otherDb = live.ctx.testDb.url ? await openDatabase({ url: live.ctx.testDb.url, max: 4 }) : null;
  other = await createContext(live.ctx.config, { database: otherDb ?? live.ctx.database, secretKey: live.ctx.secretKey });
});
afterAll(async () => {
  await other.liveSessions.close();
  await otherDb?.close();
  await live.close();
});

/** A user with two messages, one of which the thief will try to destroy; logged in and INBOX selected. */
async function thiefSession(port: number, secret: (u: MailUser) => string) {
  const user = await createMailUser(live.ctx, 'rv');
  await fillMailbox(user.username, { INBOX: 2 });
  const before = await snapshotMailbox(user.username);
  const c = await RawClient.connect(port);
  expect(await c.login(user.username, secret(user))).toMatch(/^L1 OK/);
  expect(await c.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK/);
  return { user, c, before };
}

/** Waits for the BYE and the close; returns how long after `t0` the BYE came. */
async function byeAfter(c: RawClient, t0: number, reason: RegExp): Promise<number> {
  const m = await c.waitFor(/^\* BYE [^\r]*\r\n/, 3000);
  const elapsed = Date.now() - t0;
  expect(m[0]).toMatch(reason);
  await c.waitClosed(3000);
  return elapsed;
}

/** The attack after the BYE: flag and expunge. The connection is gone, so nothing may reach the store. */
async function tryToDestroy(c: RawClient, username: string, before: unknown): Promise<void> {
  c.send('d1 STORE 1:* +FLAGS (\\Deleted)\r\nd2 EXPUNGE\r\n');
  await new Promise((r) => setTimeout(r, 200));
  expect(c.text).not.toMatch(/^d[12] OK/m);
  expect(await snapshotMailbox(username)).toEqual(before);
}

describe('a revoked login ends its open IMAP sessions', () => {
  it('revoking the app password (domain call) says BYE within a second; a STORE + EXPUNGE pipelined right after never reaches the store', async () => {
    const { user, c, before } = await thiefSession(live.port, (u) => u.app);
    const [login] = await live.ctx.db.query.altLogins.findMany({ where: (l, { eq, and }) => and(eq(l.userId, user.userId), eq(l.restricted, false)) });
    const t0 = Date.now();
    await revokeAltLogin(live.ctx, { loginId: login!.id, userId: user.userId });
    // Sent the instant the owner's click returned, before the client could have read the BYE.
    c.send('d1 STORE 1:* +FLAGS (\\Deleted)\r\nd2 EXPUNGE\r\n');
    expect(await byeAfter(c, t0, /revoked/)).toBeLessThan(1000);
    expect(c.text).not.toMatch(/^d[12] /m);
    expect(await snapshotMailbox(user.username)).toEqual(before);
    // And the login itself is refused from now on.
    const again = await RawClient.connect(live.port);
    expect(await again.login(user.username, user.app)).toMatch(/^L1 NO/);
    again.close();
  });

  it('`postern altlogin revoke ID` run as another instance ends the session on this one within a second', async () => {
    const { user, c, before } = await thiefSession(live.port, (u) => u.restrictedApp);
    const [login] = await live.ctx.db.query.altLogins.findMany({ where: (l, { eq, and }) => and(eq(l.userId, user.userId), eq(l.restricted, true)) });
    const t0 = Date.now();
    const r = await postern(other, ['altlogin', 'revoke', String(login!.id)]);
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/revoked/) });
    expect(await byeAfter(c, t0, /revoked/)).toBeLessThan(1000);
    await tryToDestroy(c, user.username, before);
  });

  it('`postern user disable` ends every session of the user, main password and app password alike', async () => {
    const { user, c, before } = await thiefSession(live.port, (u) => u.app);
    const main = await RawClient.connect(live.port);
    expect(await main.login(user.username, user.password)).toMatch(/^L1 OK/);
    const t0 = Date.now();
    expect((await postern(other, ['user', 'disable', user.username])).code).toBe(0);
    expect(await byeAfter(c, t0, /disabled/)).toBeLessThan(1000);
    expect(await byeAfter(main, t0, /disabled/)).toBeLessThan(1000);
    await tryToDestroy(c, user.username, before);
  });

  it('`postern user passwd` ends main-password sessions and the user’s web sessions; an app password session stays', async () => {
    const { user, c, before } = await thiefSession(live.port, (u) => u.password);
    const phone = await RawClient.connect(live.port);
    expect(await phone.login(user.username, user.app)).toMatch(/^L1 OK/);
    const web = await createWebSession(live.ctx, { userId: user.userId, loginId: null, method: 'main', restricted: false });
    const t0 = Date.now();
    const r = await postern(other, ['user', 'passwd', user.username, '--password-stdin'], 'a brand new password\n');
    expect(r.code).toBe(0);
    expect(await byeAfter(c, t0, /password was changed/)).toBeLessThan(1000);
    await tryToDestroy(c, user.username, before);
    expect(await validateWebSession(live.ctx, web.token)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(await phone.command('n1', 'NOOP')).toMatch(/^n1 OK/);
    phone.close();
  });

  it('an IDLE session is ended too, and its store session is logged out, never parked for reuse', async () => {
    const proxy = await startStoreProxy(live.ctx.config.UPSTREAM_IMAP!);
    const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port: proxy.port } } };
    const gateway: RunningImapGateway = await startImapGateway(ctx, { host: '127.0.0.1', port: 0, sessionReuseMs: 10_000 });
    try {
      const { user, c, before } = await thiefSession(gateway.port, (u) => u.app);
      c.send('i1 IDLE\r\n');
      await c.waitFor(/^\+ /);
      const [login] = await live.ctx.db.query.altLogins.findMany({ where: (l, { eq, and }) => and(eq(l.userId, user.userId), eq(l.restricted, false)) });
      const t0 = Date.now();
      await revokeAltLogin(other, { loginId: login!.id });
      expect(await byeAfter(c, t0, /revoked/)).toBeLessThan(1000);
      // The store connection closes after DONE + LOGOUT (a parked one would stay open for 10 s).
      const deadline = Date.now() + 3000;
      while (proxy.sessions().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(proxy.sessions()).toEqual([]);
      const sent = Buffer.concat(proxy.sent.flat()).toString('latin1');
      expect(sent).toMatch(/i1 IDLE\r\nDONE\r\nP9 LOGOUT\r\n/);
      await tryToDestroy(c, user.username, before);
    } finally {
      await gateway.close();
      await proxy.close();
    }
  });

  it('a revoked 1-hour one-time code ends every session it opened (reconnects and parallel connections)', async () => {
    const user = await createMailUser(live.ctx, 'oh');
    const { login, codes } = await createOneTimeList(live.ctx, { userId: user.userId, services: ['imap'], validForSeconds: 3600, count: 3 });
    const sessions: RawClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await RawClient.connect(live.port);
      expect(await c.login(user.username, codes[0]!.code)).toMatch(/^L1 OK/);
      sessions.push(c);
    }
    const t0 = Date.now();
    await revokeAltLogin(other, { loginId: login.id });
    for (const c of sessions) expect(await byeAfter(c, t0, /revoked/)).toBeLessThan(1000);
  });

  it('a login revoked while it was being verified gets BYE instead of OK, and nothing pipelined behind it runs', async () => {
    const user = await createMailUser(live.ctx, 'rc');
    await fillMailbox(user.username, { INBOX: 1 });
    const before = await snapshotMailbox(user.username);
    const [login] = await live.ctx.db.query.altLogins.findMany({ where: (l, { eq, and }) => and(eq(l.userId, user.userId), eq(l.restricted, false)) });
    // The owner revokes between the secret check and the session's registration: its NOTIFY finds nothing.
    const racing = await startImapGateway(live.ctx, {
      host: '127.0.0.1',
      port: 0,
      authenticate: async (ctx, req) => {
        const result = await authenticate(ctx, req);
        await revokeAltLogin(other, { loginId: login!.id });
        return result;
      },
    });
    try {
      const c = await RawClient.connect(racing.port);
      const t0 = Date.now();
      // Everything pipelined behind the LOGIN, as a thief's script would.
      c.send(`L1 LOGIN ${user.username} "${user.app}"\r\ns1 SELECT INBOX\r\nd1 STORE 1:* +FLAGS (\\Deleted)\r\nd2 EXPUNGE\r\n`);
      expect(await byeAfter(c, t0, /revoked/)).toBeLessThan(1000);
      expect(c.text).not.toMatch(/^(L1|s1|d1|d2) OK/m);
      expect(await snapshotMailbox(user.username)).toEqual(before);
    } finally {
      await racing.close();
    }
  });

  it('a login revoked while the store was logging it in gets BYE instead of OK, and nothing pipelined behind it runs', async () => {
    const user = await createMailUser(live.ctx, 'rs');
    await fillMailbox(user.username, { INBOX: 1 });
    const before = await snapshotMailbox(user.username);
    const [login] = await live.ctx.db.query.altLogins.findMany({ where: (l, { eq, and }) => and(eq(l.userId, user.userId), eq(l.restricted, false)) });
    // A store in front of the store: the owner revokes the login when the gateway's store login arrives,
    // after the accounts core said yes and before the store answers.
    const store = live.ctx.config.UPSTREAM_IMAP!;
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect(store.port, store.host);
      let revoked: Promise<unknown> | null = null;
      inbound.on('data', (d: Buffer) => {
        if (!revoked && / AUTHENTICATE /i.test(d.toString('latin1'))) revoked = revokeAltLogin(other, { loginId: login!.id });
        void (revoked ?? Promise.resolve()).then(() => outbound.write(d));
      });
      outbound.pipe(inbound);
      const end = () => (inbound.destroy(), outbound.destroy());
      for (const s of [inbound, outbound]) s.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port: (proxy.address() as net.AddressInfo).port } } };
    const gateway = await startImapGateway(ctx, { host: '127.0.0.1', port: 0 });
    try {
      const c = await RawClient.connect(gateway.port);
      // No time bound here: the store login through the extra hop is what takes the time.
      c.send(`L1 LOGIN ${user.username} "${user.app}"\r\ns1 SELECT INBOX\r\nd1 STORE 1:* +FLAGS (\\Deleted)\r\nd2 EXPUNGE\r\n`);
      await byeAfter(c, Date.now(), /revoked/);
      expect(c.text).not.toMatch(/^(L1|s1|d1|d2) OK/m);
      expect(await snapshotMailbox(user.username)).toEqual(before);
    } finally {
      await gateway.close();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
