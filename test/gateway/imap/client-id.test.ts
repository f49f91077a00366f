/**
 * The name an IMAP client gives itself with ID before login (RFC 2971) reaches the login's records:
 * the "new client" memory of app passwords (and so the login notice) and the live-session list of
 * Options → Security. Real gateway, real Dovecot.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginSeenClients } from '../../../src/db/schema.js';
import { settleLoginNotices } from '../../../src/notices/queue.js';
import { listSessions } from '../../../src/sessions/list-sessions.js';
import { listSessionRows } from '../../../src/sessions/session-rows.js';
import { createAppPassword } from '../../../src/accounts/alt-logins.js';
import { createMailUser, quote, RawClient, startLiveGateway, type LiveGateway } from './live-gateway.js';

let live: LiveGateway;
beforeAll(async () => {
  live = await startLiveGateway();
});
afterAll(() => live?.close());

async function loginWithId(user: string, pass: string, id: string): Promise<RawClient> {
  const client = await RawClient.connect(live.port);
  expect(await client.command('i1', `ID ${id}`)).toMatch(/^i1 OK/m);
  expect(await client.command('a1', `LOGIN ${quote(user)} ${quote(pass)}`)).toMatch(/^a1 OK/m);
  return client;
}

describe('IMAP ID before login', () => {
  it('names the client in the live-session list and in what the app password has been seen with', async () => {
    const user = await createMailUser(live.ctx, 'cid');
    const app = await createAppPassword(live.ctx, { userId: user.userId, services: ['imap'], label: 'laptop' });

    const thunderbird = await loginWithId(user.username, app.secret, '("name" "Thunderbird" "version" "128.3" "os" "Linux")');
    const sessions = await listSessions(live.ctx, user.userId);
    expect(sessions.map((s) => [s.protocol, s.clientName])).toEqual([['imap', 'Thunderbird 128.3']]);
    thunderbird.socket.destroy();

    // Control characters are dropped; a name alone is kept without a version.
    const k9 = await loginWithId(user.username, app.secret, '("name" "K-9\x01 Mail")');
    k9.socket.destroy();
    // No ID: the client is unknown, not the previous connection's.
    const bare = await RawClient.connect(live.port);
    expect(await bare.command('a1', `LOGIN ${quote(user.username)} ${quote(app.secret)}`)).toMatch(/^a1 OK/m);
    bare.socket.destroy();

    await settleLoginNotices(live.ctx);
    const seen = await live.ctx.db.select({ client: loginSeenClients.client }).from(loginSeenClients).where(eq(loginSeenClients.loginId, app.login.id));
    expect(seen.map((r) => r.client).sort()).toEqual(['', 'K-9 Mail', 'Thunderbird 128.3']);
  });

  it('names the client from an ID sent after login too, on this instance and in the rows other instances read', async () => {
    const user = await createMailUser(live.ctx, 'cida');
    const client = await RawClient.connect(live.port);
    expect(await client.command('a1', `LOGIN ${quote(user.username)} ${quote(user.app)}`)).toMatch(/^a1 OK/m);
    expect((await listSessions(live.ctx, user.userId))[0]?.clientName).toBeNull();
    // Relayed to the store, which answers it.
    expect(await client.command('i1', 'ID ("name" "Thunderbird" "version" "140.2")')).toMatch(/^i1 OK/m);
    expect((await listSessions(live.ctx, user.userId))[0]?.clientName).toBe('Thunderbird 140.2');
    const deadline = Date.now() + 5000;
    while ((await listSessionRows(live.ctx.db, user.userId))[0]?.clientName !== 'Thunderbird 140.2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await listSessionRows(live.ctx.db, user.userId))[0]?.clientName).toBe('Thunderbird 140.2');
    client.socket.destroy();
  });

  it('keeps at most 80 characters of what a client claims', async () => {
    const user = await createMailUser(live.ctx, 'cidl');
    const client = await loginWithId(user.username, user.app, `("name" "${'x'.repeat(300)}" "version" "1")`);
    const [session] = await listSessions(live.ctx, user.userId);
    expect(session?.clientName).toBe('x'.repeat(80));
    client.socket.destroy();
  });
});
