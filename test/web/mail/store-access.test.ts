import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listActiveWebSessions, revokeAllWebSessions } from '../../../src/auth/web-sessions.js';
import { fillMailbox } from '../../helpers/mailstore.js';
import { createMailHarness, FULL_PASSWORD, type MailHarness } from './mail-harness.js';
import { csrfIn, text, WebClient } from '../harness.js';

let h: MailHarness;

beforeAll(async () => {
  h = await createMailHarness();
  await fillMailbox(h.mailbox, { INBOX: 2 });
});
afterAll(() => h.close());

describe('Webmail store connections', () => {
  it('keeps one store connection per web session between requests, and closes it at sign-out', async () => {
    const before = h.pool.size();
    const a = await h.full();
    for (let i = 0; i < 3; i++) expect((await a.get('/mail')).status).toBe(200);
    expect(h.pool.size()).toBe(before + 1);
    const b = await h.full();
    await b.get('/mail');
    expect(h.pool.size()).toBe(before + 2);
    const html = await (await a.get('/mail')).text();
    const res = await a.post('/logout', { _csrf: csrfIn(html) });
    expect(res.status).toBe(303);
    expect(h.pool.size()).toBe(before + 1);
  });

  it('reconnects once when the kept connection died', async () => {
    const a = await h.full();
    await a.get('/mail');
    // Drop the kept connection's socket under the app, as a store restart would.
    const sessions = await listActiveWebSessions(h.ctx, h.userId);
    let killed = 0;
    for (const s of sessions) {
      if (!h.pool.has(s.id)) continue;
      await h.pool.use({ id: s.id, upstreamUser: h.mailbox, restricted: false }, async (client) => client.close());
      killed++;
    }
    expect(killed).toBeGreaterThan(0);
    const res = await a.get('/mail');
    expect(res.status).toBe(200);
    expect(text(await res.text())).toContain('2 messages');
  });

  it('closes the connection of a web session that was signed out elsewhere', async () => {
    const a = await h.full();
    await a.get('/mail');
    const size = h.pool.size();
    await revokeAllWebSessions(h.ctx, h.userId);
    await h.pool.sweep();
    expect(h.pool.size()).toBeLessThan(size);
    expect(h.pool.size()).toBe(0);
  });
});

describe('Store down', () => {
  let down: MailHarness;
  beforeAll(async () => {
    down = await createMailHarness({ UPSTREAM_IMAP: '127.0.0.1:9' });
  });
  afterAll(() => down.close());

  it('answers a friendly 503 page, not a 500', async () => {
    const c = new WebClient(down);
    await c.login(down.mailbox, FULL_PASSWORD);
    const res = await c.get('/mail');
    expect(res.status).toBe(503);
    const body = text(await res.text());
    expect(body).toContain('The mail store is not reachable right now');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
