/**
 * Store sessions parked at LOGOUT (gateway/imap/session-cache.ts), through the real gateway and Dovecot,
 * with a recording proxy in between so that every store login and every byte the gateway sent can be
 * counted.
 */
import fs from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionKey } from '../../../gateway/imap/session-cache.js';
import { revokeAltLogin } from '../../../src/accounts/alt-logins.js';
import { changePassword, setUserDisabled } from '../../../src/accounts/users.js';
import { altLogins } from '../../../src/db/schema.js';
import { type RunningImapGateway, startImapGateway } from '../../../gateway/imap/server.js';
import { fillMailbox } from '../../helpers/mailstore.js';
import { RawClient, createMailUser, startLiveGateway, startStoreProxy, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let proxy: Awaited<ReturnType<typeof startStoreProxy>>;
let alice: MailUser;
let bob: MailUser;

beforeAll(async () => {
  live = await startLiveGateway();
  proxy = await startStoreProxy({ host: live.ctx.config.UPSTREAM_IMAP!.host, port: live.ctx.config.UPSTREAM_IMAP!.port });
  alice = await createMailUser(live.ctx, 'ra');
  bob = await createMailUser(live.ctx, 'rb');
  await fillMailbox(alice.username, { INBOX: 3 });
  await fillMailbox(bob.username, { INBOX: 1 });
});
afterAll(async () => {
  await proxy.close();
  await live.close();
});

/** A gateway that reaches the store through the recording proxy. */
async function withGateway<T>(reuseMs: number, run: (gateway: RunningImapGateway) => Promise<T>): Promise<T> {
  const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port: proxy.port } } };
  const gateway = await startImapGateway(ctx, { host: '127.0.0.1', port: 0, sessionReuseMs: reuseMs });
  try {
    return await run(gateway);
  } finally {
    await gateway.close();
  }
}

/** Store logins made so far for this mailbox (SASL PLAIN's authzid is the mailbox). */
function storeLogins(user: MailUser): number {
  return proxy.sent.filter((log) => {
    const text = Buffer.concat(log).toString('latin1');
    const ir = / AUTHENTICATE PLAIN (\S+)\r\n/.exec(text)?.[1];
    return ir !== undefined && Buffer.from(ir, 'base64').toString('utf8').startsWith(`${user.username}\0`);
  }).length;
}

/** Everything the gateway sent to the store for this mailbox's sessions. */
function sentFor(user: MailUser): string {
  return proxy.sent
    .map((log) => Buffer.concat(log).toString('latin1'))
    .filter((text) => {
      const ir = / AUTHENTICATE PLAIN (\S+)\r\n/.exec(text)?.[1];
      return ir !== undefined && Buffer.from(ir, 'base64').toString('utf8').startsWith(`${user.username}\0`);
    })
    .join('');
}

async function session(port: number, user: MailUser, pass: string, commands: string[], options: { localAddress?: string } = {}): Promise<RawClient> {
  const c = await RawClient.connect(port, options);
  expect(await c.login(user.username, pass)).toMatch(/^L1 OK \[CAPABILITY [^\]]+\] Logged in/);
  for (const [i, line] of commands.entries()) expect(await c.command(`c${i}`, line)).toMatch(new RegExp(`^c${i} OK`));
  expect(await c.command('o1', 'LOGOUT')).toBe('o1 OK LOGOUT completed');
  await c.waitClosed();
  return c;
}

describe('store sessions parked at logout', () => {
  it('gives a reconnecting client its store session back: one store login, the mailbox left unselected, nothing expunged', async () => {
    const before = storeLogins(alice);
    await withGateway(10_000, async (gateway) => {
      for (let i = 0; i < 3; i++) {
        const c = await session(gateway.port, alice, alice.app, ['SELECT INBOX', 'STORE 1 +FLAGS (\\Seen)']);
        expect(c.text).toMatch(/^\* 3 EXISTS\r\n/m);
        // Each new client starts unselected, whatever the last one did.
        const next = await RawClient.connect(gateway.port);
        await next.login(alice.username, alice.app);
        expect(await next.command('f1', 'FETCH 1 FLAGS')).toMatch(/^f1 BAD FETCH is not valid in this state/);
        expect(await next.command('o1', 'LOGOUT')).toMatch(/^o1 OK/);
        await next.waitClosed();
      }
    });
    expect(storeLogins(alice) - before).toBe(1);
    const sent = sentFor(alice);
    // Left with UNSELECT, never CLOSE (which would expunge).
    expect(sent).toMatch(/^P8 UNSELECT\r\n/m);
    expect(sent).not.toMatch(/ CLOSE\r\n/);
  });

  it('never hands a parked session to another user, to a restricted login or to another address', async () => {
    await withGateway(10_000, async (gateway) => {
      await session(gateway.port, alice, alice.app, []);
      const aliceLogins = storeLogins(alice);
      const bobLogins = storeLogins(bob);

      const b = await RawClient.connect(gateway.port);
      await b.login(bob.username, bob.app);
      await b.command('s1', 'SELECT INBOX');
      expect(b.text).toMatch(/^\* 1 EXISTS\r\n/m);
      b.close();
      expect(storeLogins(bob) - bobLogins).toBe(1);

      // Restricted: its own store session (the store's restricted master), and EXPUNGE still refused.
      const r = await RawClient.connect(gateway.port);
      expect(await r.login(alice.username, alice.restrictedApp)).toMatch(/^L1 OK .*restricted/);
      await r.command('s1', 'SELECT INBOX');
      expect(await r.command('e1', 'EXPUNGE')).toMatch(/^e1 NO \[NOPERM\] Restricted login/);
      r.close();
      expect(storeLogins(alice) - aliceLogins).toBe(1);

      // Another address: the store logged the first client's address for the parked session.
      await session(gateway.port, alice, alice.app, [], { localAddress: '127.0.0.2' });
      expect(storeLogins(alice) - aliceLogins).toBe(2);
    });
  });

  it('does not park a session that ENABLEd an extension', async () => {
    await withGateway(10_000, async (gateway) => {
      await session(gateway.port, bob, bob.app, ['ENABLE CONDSTORE']);
      const before = storeLogins(bob);
      await session(gateway.port, bob, bob.app, []);
      expect(storeLogins(bob) - before).toBe(1);
    });
  });

  it('never hands over a session on which CONDSTORE or other state was turned on, even implicitly', async () => {
    const carol = await createMailUser(live.ctx, 'rc');
    await fillMailbox(carol.username, { INBOX: 2 });
    await withGateway(10_000, async (gateway) => {
      // Each of these enables CONDSTORE (RFC 7162 §3.1) or keeps state the next client would inherit.
      for (const enabling of ['SELECT INBOX (CONDSTORE)', 'EXAMINE INBOX (CONDSTORE)', 'SELECT INBOX|FETCH 1 (FLAGS MODSEQ)',
        'SELECT INBOX|FETCH 1:* FLAGS (CHANGEDSINCE 1)', 'SELECT INBOX|STORE 1 (UNCHANGEDSINCE 99999) +FLAGS (\\Seen)',
        'SELECT INBOX|SEARCH MODSEQ 1', 'STATUS INBOX (HIGHESTMODSEQ)', 'SELECT INBOX|SEARCH RETURN (SAVE) ALL']) {
        await session(gateway.port, carol, carol.app, enabling.split('|'));
        const before = storeLogins(carol);
        const next = await RawClient.connect(gateway.port);
        await next.login(carol.username, carol.app);
        expect(await next.command('s', 'SELECT INBOX')).toMatch(/^s OK/);
        expect(await next.command('f', 'FETCH 1:* (FLAGS)')).toMatch(/^f OK/);
        expect(next.text, enabling).toMatch(/^\* 1 FETCH \(FLAGS/m);
        expect(next.text, enabling).not.toMatch(/^\* \d+ FETCH .*MODSEQ/m);
        expect(storeLogins(carol) - before, enabling).toBe(1);
        expect(await next.command('o', 'LOGOUT')).toMatch(/^o OK/);
        await next.waitClosed();
      }
    });
  });

  it('drops a parked session that hears from the store', async () => {
    await withGateway(10_000, async (gateway) => {
      await session(gateway.port, bob, bob.app, []);
      const parked = [...proxy.pairs].filter((p) => p.loggedIn && !p.inbound.destroyed);
      for (const p of parked) p.outbound.write('P0 NOOP\r\n'); // the store's "P0 OK" reaches the parked session
      const before = storeLogins(bob);
      await expect.poll(() => [...proxy.pairs].filter((p) => p.loggedIn).length).toBe(0);
      await session(gateway.port, bob, bob.app, []);
      expect(storeLogins(bob) - before).toBe(1);
    });
  });

  it('logs a parked session out when the reuse window ends, and at once when reuse is off', async () => {
    for (const reuseMs of [300, 0]) {
      const leaver = await createMailUser(live.ctx, 'bye');
      await withGateway(reuseMs, async (gateway) => {
        await session(gateway.port, leaver, leaver.app, ['SELECT INBOX']);
        // The store read our LOGOUT: it logs a logout, where a cut connection would log "Connection closed".
        const logPath = inject('dovecot').logPath;
        const ended = new RegExp(`imap\\(${leaver.username}\\)<[^>]*><[^>]*>: Info: Disconnected: (Logged out|[^ ]+ [^ ]+)`);
        await expect.poll(() => ended.exec(fs.readFileSync(logPath, 'utf8'))?.[1], { timeout: 3000 }).toBe('Logged out');
      });
    }
  });

  it('keys sessions by store, identity, restriction and client address', () => {
    const target = { host: '127.0.0.1', port: 143, tls: false };
    const identity = { authcid: 'master', password: 'x', authzid: 'alice' };
    const key = sessionKey(target, identity, false, '192.0.2.1');
    expect(sessionKey(target, { ...identity, password: 'y' }, false, '192.0.2.1')).toBe(key);
    for (const other of [
      sessionKey({ ...target, port: 993 }, identity, false, '192.0.2.1'),
      sessionKey(target, { ...identity, authcid: 'restricted' }, false, '192.0.2.1'),
      sessionKey(target, { ...identity, authzid: 'bob' }, false, '192.0.2.1'),
      sessionKey(target, identity, true, '192.0.2.1'),
      sessionKey(target, identity, false, '192.0.2.2'),
    ]) {
      expect(other).not.toBe(key);
    }
  });
});

describe('a parked store session follows its login', () => {
  /** Store sessions of this mailbox still logged in through the proxy. */
  const openFor = (user: MailUser) =>
    proxy.sessions().filter((p) => {
      const ir = / AUTHENTICATE PLAIN (\S+)\r\n/.exec(Buffer.concat(p.log).toString('latin1'))?.[1];
      return ir !== undefined && Buffer.from(ir, 'base64').toString('utf8').startsWith(`${user.username}\0`);
    }).length;

  const appLoginOf = async (user: MailUser) => {
    const [row] = await live.ctx.db
      .select({ id: altLogins.id })
      .from(altLogins)
      .where(and(eq(altLogins.userId, user.userId), eq(altLogins.kind, 'app'), eq(altLogins.restricted, false)));
    return row!.id;
  };

  for (const change of ['the app password is revoked', 'the user is disabled', 'the password is changed'] as const) {
    it(`is logged out, not handed to the next login, when ${change}`, async () => {
      const user = await createMailUser(live.ctx, 'pk');
      await withGateway(30_000, async (gateway) => {
        // The login that parks: the app password (the main password for a password change).
        const parkedBy = change === 'the password is changed' ? user.password : user.app;
        await session(gateway.port, user, parkedBy, ['SELECT INBOX']);
        await expect.poll(() => openFor(user), { timeout: 5000 }).toBe(1);
        const before = storeLogins(user);
        if (change === 'the app password is revoked') await revokeAltLogin(live.ctx, { loginId: await appLoginOf(user), userId: user.userId });
        if (change === 'the user is disabled') await setUserDisabled(live.ctx, { userId: user.userId, disabled: true });
        let nextSecret = user.password;
        if (change === 'the password is changed') {
          nextSecret = `${user.password}-new`;
          await changePassword(live.ctx, { userId: user.userId, currentPassword: user.password, newPassword: nextSecret });
        }
        // The parked session is logged out on the store (bounded wait: the NOTIFY arrives within milliseconds).
        await expect.poll(() => openFor(user), { timeout: 5000 }).toBe(0);
        const sent = sentFor(user);
        expect(sent).toMatch(/^P9 LOGOUT\r\n/m);
        if (change === 'the user is disabled') await setUserDisabled(live.ctx, { userId: user.userId, disabled: false });
        // The next login (the same store identity and address) gets a store session of its own.
        await session(gateway.port, user, nextSecret, []);
        expect(storeLogins(user) - before).toBe(1);
      });
    });
  }

  it('a change to another login of the user leaves the parked session for the next login', async () => {
    const user = await createMailUser(live.ctx, 'pl');
    await withGateway(30_000, async (gateway) => {
      await session(gateway.port, user, user.password, []);
      await expect.poll(() => openFor(user), { timeout: 5000 }).toBe(1);
      const before = storeLogins(user);
      // Revoking the app password does not concern the main password's parked session.
      await revokeAltLogin(live.ctx, { loginId: await appLoginOf(user), userId: user.userId });
      await session(gateway.port, user, user.password, []);
      expect(storeLogins(user) - before).toBe(0);
    });
  });
});
