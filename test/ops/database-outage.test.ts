/**
 * PostgreSQL going away and coming back (issue 18): during the outage every web request answers a clear
 * 503 page within a second, IMAP logins get NO [UNAVAILABLE], /healthz stays 200 and /readyz says which
 * dependency is down; afterwards everything recovers without restarting Postern.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createUser } from '../../src/accounts/users.js';
import { isDatabaseUnavailable, pgError } from '../../src/db/errors.js';
import { RawClient } from '../gateway/imap/live-gateway.js';
import { WebClient } from '../web/harness.js';
import { eventually, startOutageServer, timed, type OutageServer } from './outage-harness.js';

const PASSWORD = 'outage test password';
let s: OutageServer;
let username: string;

beforeAll(async () => {
  s = await startOutageServer({ DATABASE_STATEMENT_TIMEOUT_MS: '2000' });
  username = `outage${Date.now() % 100000}`;
  await createUser(s.ctx, { username, password: PASSWORD });
});
afterAll(() => s?.close());

async function imapLogin(port: number, user: string, pass: string): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    client.send(`a1 LOGIN ${user} "${pass}"\r\n`);
    return (await client.waitFor(/^a1 .*\r\n/, 5000))[0];
  } finally {
    client.socket.destroy();
  }
}

describe('a PostgreSQL outage', () => {
  it('answers fast 503s and NO [UNAVAILABLE] while the database is gone, and recovers by itself', async () => {
    const signedIn = new WebClient(s.web);
    await signedIn.login(username, PASSWORD);
    expect((await signedIn.get('/options')).status).toBe(303);

    await s.gate.cut();
    try {
      for (let round = 0; round < 3; round++) {
        // A signed-in page (the session lookup needs the database) and a fresh login.
        const page = await timed(() => signedIn.get('/options'));
        expect(page.ms).toBeLessThan(1000);
        expect(page.value.status).toBe(503);
        const html = await page.value.text();
        expect(html).toContain('cannot reach its database');
        expect(html).not.toMatch(/ECONNREFUSED|CONNECTION_|at .*\.ts:|Error:/);
        expect(page.value.headers.get('retry-after')).toBe('5');

        const login = await timed(() => new WebClient(s.web).post('/login', { username, password: PASSWORD }));
        expect(login.ms).toBeLessThan(1000);
        expect(login.value.status).toBe(503);

        const imap = await timed(() => imapLogin(s.imap.port, username, PASSWORD));
        expect(imap.ms).toBeLessThan(1000);
        expect(imap.value).toMatch(/^a1 NO \[UNAVAILABLE\]/);

        const health = await timed(async () => s.web.app.request('/healthz'));
        expect(health.ms).toBeLessThan(100);
        expect(health.value.status).toBe(200);

        const ready = await timed(async () => s.web.app.request('/readyz'));
        expect(ready.ms).toBeLessThan(1500);
        expect(ready.value.status).toBe(503);
        expect(await ready.value.json()).toEqual({ status: 'degraded', database: 'down', upstream: 'up' });
        await new Promise((r) => setTimeout(r, 400));
      }
    } finally {
      await s.gate.restore();
    }

    // The same process, no restart: the first requests after the database is back succeed.
    const readyAfter = await eventually(async () => (await s.web.app.request('/readyz')).status === 200, 3000);
    expect(readyAfter).toBeLessThan(1500);
    expect((await signedIn.get('/options')).status).toBe(303);
    expect(await imapLogin(s.imap.port, username, PASSWORD)).toMatch(/^a1 OK/);
    await new WebClient(s.web).login(username, PASSWORD);
  });

  it('cancels a statement that runs longer than DATABASE_STATEMENT_TIMEOUT_MS', async () => {
    const slow = await timed(() =>
      s.ctx.db.execute(sql`select pg_sleep(5)`).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(slow.ms).toBeGreaterThan(1500);
    expect(slow.ms).toBeLessThan(3500);
    expect(pgError(slow.value)?.code).toBe('57014');
    expect(isDatabaseUnavailable(slow.value)).toBe(true);
  });
});
