// Authenticator-app logins on real PostgreSQL and the real Dovecot: IMAP LOGIN with password + code
// through the gateway, replay refused on the wire, and concurrent uses of one code (exactly one wins).
import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTotpLogin } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { totpCode } from '../../../src/auth/totp.js';
import { verifyTotpStep } from '../../../src/auth/totp-logins.js';
import { auditEvents } from '../../../src/db/schema.js';
import { startImapGateway, type RunningImapGateway } from '../../../gateway/imap/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;
let gateway: RunningImapGateway;
let ip = 1;
const nextIp = () => `10.16.0.${ip++}`;

beforeAll(async () => {
  ctx = await createTestContext({ forcePostgres: true });
  expect(ctx.testDb.driver).toBe('postgres');
  gateway = await startImapGateway(ctx, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await gateway.close();
  await ctx.close();
});

async function totpUser(prefix: string) {
  const username = `${prefix}${crypto.randomBytes(4).toString('hex')}`;
  const user = await createUser(ctx, { username, password: `main-${username}` });
  const secret = crypto.randomBytes(20);
  const login = await createTotpLogin(ctx, { userId: user.id, secret: 'phone pass 1', totpSecret: secret });
  return { username, userId: user.id, login, code: () => totpCode(secret, new Date()) };
}

async function imapLogin(user: string, pass: string): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: gateway.port, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true });
  await client.connect();
  return client;
}

async function imapRefused(user: string, pass: string): Promise<boolean> {
  try {
    await (await imapLogin(user, pass)).logout();
    return false;
  } catch (e) {
    return (e as { authenticationFailed?: boolean }).authenticationFailed === true;
  }
}

async function successes(userId: number, loginId: number): Promise<number> {
  const rows = await ctx.db.select().from(auditEvents).where(and(eq(auditEvents.userId, userId), eq(auditEvents.event, 'login.succeeded')));
  return rows.filter((r) => r.details.loginId === loginId && r.details.method === 'totp').length;
}

describe('authenticator app over IMAP, real Dovecot', () => {
  it('LOGIN with the password immediately followed by the code reaches the store; the same code again is refused', async () => {
    const u = await totpUser('imaptotp');
    const code = u.code();
    const client = await imapLogin(u.username, `phone pass 1${code}`);
    expect((await client.mailboxOpen('INBOX')).path).toBe('INBOX');
    await client.logout();
    expect(await imapRefused(u.username, `phone pass 1${code}`)).toBe(true);
    expect(await imapRefused(u.username, 'phone pass 1')).toBe(true);
    expect(await successes(u.userId, u.login.id)).toBe(1);
  });
});

describe('one code, many at once', () => {
  it('10 concurrent IMAP-style logins with the same code: exactly one succeeds', async () => {
    const u = await totpUser('race');
    const code = u.code();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => authenticate(ctx, { username: u.username, secret: `phone pass 1${code}`, service: 'imap', ip: nextIp() })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'failed')).toBe(true);
    expect(await successes(u.userId, u.login.id)).toBe(1);
  });

  it('10 concurrent web code pages with the same code: exactly one session', async () => {
    const u = await totpUser('webrace');
    const first = await authenticate(ctx, { username: u.username, secret: 'phone pass 1', service: 'web', ip: nextIp() });
    if (first.ok || first.reason !== 'totp-required') throw new Error(`expected totp-required, got ${JSON.stringify(first)}`);
    const code = u.code();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => verifyTotpStep(ctx, { loginId: first.loginId, lastStep: first.lastStep, code, ip: nextIp(), service: 'web' })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await successes(u.userId, u.login.id)).toBe(1);
  });
});
