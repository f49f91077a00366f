/**
 * A revocation made while this instance's LISTEN connection was away (issue 18): the NOTIFY is lost, so
 * when LISTEN comes back the auth cache is dropped and registered hooks run; the revoked app password is
 * refused at the next IMAP login, not up to 60 s later when its cache entry would have expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword, revokeAltLogin } from '../../src/accounts/alt-logins.js';
import { createUser } from '../../src/accounts/users.js';
import { getAuthCache } from '../../src/auth/auth-cache.js';
import { createContext, type AppContext } from '../../src/context.js';
import { openDatabase } from '../../src/db/client.js';
import { testConfig } from '../helpers/context.js';
import { RawClient } from '../gateway/imap/live-gateway.js';
import { eventually, startOutageServer, type OutageServer } from './outage-harness.js';

let s: OutageServer;
/** A second instance on the same database, reached directly (its connections are never cut). */
let other: AppContext;

beforeAll(async () => {
  s = await startOutageServer();
  // Subscribe the instance under test before anything is cached (as `serve` does on the first login).
  await getAuthCache(s.ctx).ready;
  const database = await openDatabase({ url: s.directUrl, max: 2 });
  other = await createContext(testConfig({ DATABASE_URL: s.directUrl }), { database, secretKey: s.secretKey });
});
afterAll(async () => {
  await other?.database.close();
  await s?.close();
});

async function imapLogin(user: string, pass: string): Promise<string> {
  const client = await RawClient.connect(s.imap.port);
  try {
    client.send(`a1 LOGIN ${user} "${pass}"\r\n`);
    return (await client.waitFor(/^a1 .*\r\n/, 5000))[0];
  } finally {
    client.socket.destroy();
  }
}

describe('LISTEN reconnect', () => {
  it('refuses an app password revoked while the LISTEN connection was cut, right after it returns', async () => {
    const user = await createUser(other, { username: `gap${Date.now() % 100000}`, password: 'gap test password' });
    const app = await createAppPassword(other, { userId: user.id, services: ['imap'] });
    expect(await imapLogin(user.username, app.secret)).toMatch(/^a1 OK/);
    expect(getAuthCache(s.ctx).size).toBeGreaterThan(0);

    let reconnects = 0;
    const unsubscribe = s.ctx.database.onListenReconnect(() => reconnects++);
    await s.gate.cut();
    // Revoked through the other instance: its NOTIFY cannot reach the instance under test.
    await revokeAltLogin(other, { loginId: app.login.id });
    await new Promise((r) => setTimeout(r, 300));
    await s.gate.restore();

    const tookMs = await eventually(async () => reconnects > 0, 5000, 20);
    expect(tookMs).toBeLessThan(2000);
    expect(reconnects).toBe(1);
    expect(await imapLogin(user.username, app.secret)).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
    unsubscribe();
  });

  it('still hears other instances after the reconnect', async () => {
    const user = await createUser(other, { username: `after${Date.now() % 100000}`, password: 'after test password' });
    const app = await createAppPassword(other, { userId: user.id, services: ['imap'] });
    expect(await imapLogin(user.username, app.secret)).toMatch(/^a1 OK/);
    await revokeAltLogin(other, { loginId: app.login.id });
    // NOTIFY arrives well within a second.
    await eventually(async () => (await imapLogin(user.username, app.secret)).startsWith('a1 NO [AUTHENTICATIONFAILED]'), 1000, 50);
  });
});
