/**
 * Transport and login edges on raw sockets: LOGINDISABLED before TLS on a network address, STARTTLS
 * discarding what was pipelined before the handshake, implicit TLS, AUTHENTICATE PLAIN, the answers for
 * every login outcome, and what happens when either side of a session goes away.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImapGateway } from '../../../gateway/imap/server.js';
import type { AuthResult } from '../../../src/auth/types.js';
import {
  RawClient,
  createMailUser,
  selfSignedCertificate,
  startLiveGateway,
  startStoreProxy,
  type LiveGateway,
  type MailUser,
} from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;
const cert = selfSignedCertificate();
const plain = (authzid: string, authcid: string, pass: string) => Buffer.from(`${authzid}\0${authcid}\0${pass}`).toString('base64');

beforeAll(async () => {
  // Listens on 127.0.0.1 but behaves as on a network address: passwords only after TLS.
  live = await startLiveGateway({ gateway: { tls: cert, imapsPort: 0, plaintextLoginAllowed: () => false } });
  user = await createMailUser(live.ctx);
});
afterAll(() => live.close());

/** A second gateway on the same database, with one setting changed. */
async function withGateway<T>(options: Parameters<typeof startImapGateway>[1] & { ctx?: typeof live.ctx }, run: (port: number) => Promise<T>) {
  const gateway = await startImapGateway(options.ctx ?? live.ctx, options);
  try {
    return await run(gateway.port);
  } finally {
    await gateway.close();
  }
}

describe('before TLS on a network address', () => {
  it('advertises STARTTLS and LOGINDISABLED, and refuses LOGIN and AUTHENTICATE without checking them', async () => {
    const c = await RawClient.connect(live.port);
    expect(c.text).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 LITERAL- ID STARTTLS LOGINDISABLED\] /);
    expect(await c.login(user.username, user.password)).toBe('L1 NO [PRIVACYREQUIRED] Use STARTTLS (or the IMAPS port) before logging in');
    expect(await c.command('L2', `AUTHENTICATE PLAIN ${plain('', user.username, user.password)}`)).toMatch(/^L2 NO \[PRIVACYREQUIRED\]/);
    c.close();
  });

  it('after STARTTLS offers AUTH=PLAIN and logs in', async () => {
    const c = await RawClient.connect(live.port);
    expect(await c.command('t1', 'STARTTLS')).toBe('t1 OK Begin TLS negotiation now');
    const s = await c.upgrade();
    await s.command('c1', 'CAPABILITY');
    expect(s.text).toMatch(/^\* CAPABILITY IMAP4rev1 LITERAL- ID SASL-IR AUTH=PLAIN AUTH=LOGIN\r\n/m);
    expect(await s.login(user.username, user.password)).toMatch(/^L1 OK /);
    expect(await s.command('t2', 'STARTTLS')).toMatch(/^t2 NO \[CANNOT\]/);
    s.close();
  });

  it('discards every command pipelined before the TLS handshake', async () => {
    const c = await RawClient.connect(live.port);
    c.send(`t1 STARTTLS\r\nx1 LOGIN ${user.username} ${user.password}\r\nx2 SELECT INBOX\r\n`);
    await c.tagged('t1');
    const s = await c.upgrade();
    expect(await s.command('a1', 'SELECT INBOX')).toMatch(/^a1 BAD /);
    expect(s.text).not.toMatch(/x1|x2/);
    expect(c.text).not.toMatch(/x1|x2/);
    s.close();
  });

  it('serves implicit TLS on the IMAPS port', async () => {
    const s = await RawClient.connect(live.gateway.imapsPort!, { tls: true });
    expect(s.text).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 LITERAL- ID SASL-IR AUTH=PLAIN AUTH=LOGIN\] /);
    expect(await s.login(user.username, user.app)).toMatch(/^L1 OK /);
    s.close();
  });
});

describe('AUTHENTICATE PLAIN', () => {
  const secure = () => RawClient.connect(live.gateway.imapsPort!, { tls: true });

  it('logs in with an initial response and with a continuation line', async () => {
    const a = await secure();
    expect(await a.command('p1', `AUTHENTICATE PLAIN ${plain('', user.username, user.password)}`)).toMatch(/^p1 OK \[CAPABILITY /);
    a.close();
    const b = await secure();
    b.send('p2 AUTHENTICATE PLAIN\r\n');
    await b.waitFor(/^\+ \r\n/);
    b.send(`${plain(user.username, user.username, user.app)}\r\n`);
    expect(await b.tagged('p2')).toMatch(/^p2 OK /);
    b.close();
  });

  it('cancels on "*", refuses another authorization identity and unknown mechanisms', async () => {
    const c = await secure();
    c.send('p1 AUTHENTICATE PLAIN\r\n');
    await c.waitFor(/^\+ \r\n/);
    c.send('*\r\n');
    expect(await c.tagged('p1')).toBe('p1 BAD Authentication cancelled');
    expect(await c.command('p2', `AUTHENTICATE PLAIN ${plain('someone-else', user.username, user.password)}`)).toMatch(/^p2 NO \[AUTHORIZATIONFAILED\]/);
    expect(await c.command('p3', 'AUTHENTICATE CRAM-MD5')).toMatch(/^p3 NO \[CANNOT\]/);
    expect(await c.command('p4', 'AUTHENTICATE PLAIN not*base64')).toMatch(/^p4 BAD /);
    expect(await c.command('p5', 'SELECT INBOX')).toMatch(/^p5 BAD /);
    c.close();
  });
});

describe('login outcomes', () => {
  const outcome = (result: AuthResult | Error) => async () => {
    if (result instanceof Error) throw result;
    return result;
  };
  const answerFor = (result: AuthResult | Error) =>
    withGateway({ host: '127.0.0.1', port: 0, authenticate: outcome(result) }, async (port) => {
      const c = await RawClient.connect(port);
      const line = await c.login('someone', 'secret-value');
      c.close();
      return line;
    });

  it('tells a throttled client when to retry, with the same code as a failure', async () => {
    expect(await answerFor({ ok: false, reason: 'throttled', retryAfterSeconds: 29.5 })).toBe(
      'L1 NO [AUTHENTICATIONFAILED] Authentication failed (too many attempts; try again in 30 seconds)',
    );
  });

  it('passes on why no SMS could be sent, on one line', async () => {
    expect(await answerFor({ ok: false, reason: 'sms-unavailable', code: 'SMS_NO_CREDITS', message: 'No credits left.\r\nA1 OK' })).toBe(
      'L1 NO [ALERT] No credits left. A1 OK',
    );
    expect(await answerFor({ ok: false, reason: 'sms-unavailable', code: 'SMS_COOLDOWN', message: 'Wait a minute.' })).toBe(
      'L1 NO [UNAVAILABLE] Wait a minute.',
    );
  });

  it('answers UNAVAILABLE when the accounts core fails', async () => {
    expect(await answerFor(new Error('database down'))).toMatch(/^L1 NO \[UNAVAILABLE\]/);
  });

  it('answers UNAVAILABLE when the store cannot be reached', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port } } };
    const stranded = await createMailUser(live.ctx, 'sd');
    const line = await withGateway({ host: '127.0.0.1', port: 0, ctx }, async (gatewayPort) => {
      const c = await RawClient.connect(gatewayPort);
      const answer = await c.login(stranded.username, stranded.app);
      // The connection stays open, not logged in: Options → Security must not list a session for it.
      expect(live.ctx.liveSessions.localSessionsOf(stranded.userId)).toEqual([]);
      c.close();
      return answer;
    });
    expect(line).toBe('L1 NO [UNAVAILABLE] The mail store is not reachable; try again later');
  });
});

describe('when one side goes away', () => {
  it('says BYE when the store connection is lost, and keeps serving other sessions', async () => {
    const proxy = await startStoreProxy({ host: live.ctx.config.UPSTREAM_IMAP!.host, port: live.ctx.config.UPSTREAM_IMAP!.port });
    const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port: proxy.port } } };
    try {
      await withGateway({ host: '127.0.0.1', port: 0, ctx }, async (port) => {
        const a = await RawClient.connect(port);
        const b = await RawClient.connect(port);
        await a.login(user.username, user.app);
        await b.login(user.username, user.app);
        expect(proxy.sessions()).toHaveLength(2);
        proxy.sessions()[0]!.outbound.destroy();
        const lost = (await Promise.race([a.waitFor(/^\* BYE .*\r\n/).then(() => a), b.waitFor(/^\* BYE .*\r\n/).then(() => b)]));
        const other = lost === a ? b : a;
        expect(lost.text).toMatch(/^\* BYE \[UNAVAILABLE\] Lost the connection to the mail store\r\n/m);
        await lost.waitClosed();
        expect(await other.command('n1', 'NOOP')).toMatch(/^n1 OK/);
        // Client gone: its store session is closed too.
        other.close();
        await expect.poll(() => proxy.sessions().length).toBe(0);
      });
    } finally {
      await proxy.close();
    }
  });

  it('keeps at most two greeted store connections ready, never logged in, and closes them with the gateway', async () => {
    const proxy = await startStoreProxy({ host: live.ctx.config.UPSTREAM_IMAP!.host, port: live.ctx.config.UPSTREAM_IMAP!.port });
    const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port: proxy.port } } };
    try {
      // Without session reuse, so that every logout ends its store session (session-reuse.test.ts).
      await withGateway({ host: '127.0.0.1', port: 0, ctx, sessionReuseMs: 0 }, async (port) => {
        for (let i = 0; i < 5; i++) {
          const c = await RawClient.connect(port);
          expect(await c.login(user.username, user.app)).toMatch(/^L1 OK/);
          expect(await c.command('o1', 'LOGOUT')).toMatch(/^o1 OK/m);
          c.close();
        }
        await expect.poll(() => proxy.sessions().length).toBe(0);
        expect(proxy.pairs.size).toBeLessThanOrEqual(2);
        // The ready connections have heard nothing from us: identity and client address come at login.
        for (const pair of proxy.pairs) expect(pair.log).toEqual([]);
      });
      await expect.poll(() => proxy.pairs.size).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('closes after 20 bad commands and when a client stays silent before login', async () => {
    await withGateway({ host: '127.0.0.1', port: 0, unauthenticatedTimeoutMs: 300 }, async (port) => {
      const c = await RawClient.connect(port);
      c.send('x BOGUS\r\n'.repeat(25));
      await c.waitClosed();
      expect(c.text.match(/^x BAD /gm)).toHaveLength(20);
      expect(c.text).toMatch(/^\* BYE Too many invalid commands\r\n$/m);
      const silent = await RawClient.connect(port);
      await silent.waitClosed();
      expect(silent.text).toMatch(/^\* BYE Autologout; idle for too long\r\n/m);
    });
  });
});
