/**
 * Issue 16, "Live sessions, everywhere", against the real Dovecot: Options → Security on one instance lists
 * the IMAP connection another instance holds; "End" on it gives that client `* BYE` within a second and a
 * STORE + EXPUNGE sent after it never reaches the store; "End all other sessions" signs every other browser
 * out but not this one; a restricted session sees the list, has no buttons, and its forged posts are 403
 * (audited) and end nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppPassword, createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { addGroupMember, createGroup } from '../../src/accounts/groups.js';
import { listAuditEvents } from '../../src/audit.js';
import { createContext, type AppContext } from '../../src/context.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createWebApp } from '../../web/app.js';
import { fillMailbox, snapshotMailbox } from '../helpers/mailstore.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from '../gateway/imap/live-gateway.js';
import { csrfIn, text, WebClient, type WebHarness } from './harness.js';

const FULL_RIGHTS = { UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined };

/** Instance A holds the IMAP connections (gateway); instance B serves the web (its own database connection on PostgreSQL). */
let live: LiveGateway;
let webInstance: AppContext;
let webDb: Database | null = null;
let web: WebHarness;

beforeAll(async () => {
  live = await startLiveGateway({ env: FULL_RIGHTS });
  webDb = live.ctx.testDb.url ? await openDatabase({ url: live.ctx.testDb.url, max: 4 }) : null;
  webInstance = await createContext(live.ctx.config, { database: webDb ?? live.ctx.database, secretKey: live.ctx.secretKey });
  const app = createWebApp(webInstance, { clientIp: (req) => req.headers.get('x-test-client-ip') ?? undefined });
  web = { ctx: live.ctx, app, close: async () => undefined };
});
afterAll(async () => {
  await webInstance.liveSessions.close();
  await webDb?.close();
  await live.close();
});

/** A user with mail, a labelled app password, and an IMAP connection through the gateway with INBOX selected. */
async function connectedUser(prefix: string) {
  const user = await createMailUser(live.ctx, prefix);
  await fillMailbox(user.username, { INBOX: 2 });
  const before = await snapshotMailbox(user.username);
  const phone = await createAppPassword(live.ctx, { userId: user.userId, services: ['imap'], label: 'Phone mail app' });
  const imap = await RawClient.connect(live.port);
  expect(await imap.login(user.username, phone.secret)).toMatch(/^L1 OK/);
  expect(await imap.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK/);
  // The rows other instances read are written about once a second; write them now.
  await live.ctx.liveSessions.flush();
  return { user, imap, before };
}

async function browser(user: MailUser, secret = user.password): Promise<WebClient> {
  const client = new WebClient(web);
  await client.login(user.username, secret);
  return client;
}

/** The End button's form action for the row whose accessible name matches. */
function endActionFor(html: string, name: RegExp): string | null {
  for (const m of html.matchAll(/<form method="post" action="([^"]+)"[^>]*>(?:(?!<\/form>)[\s\S])*?aria-label="([^"]+)"/g)) {
    if (name.test(text(m[2]!))) return m[1]!;
  }
  return null;
}

describe('Options → Security lists and ends live sessions on every instance', () => {
  it('lists the IMAP connection another instance holds; "End" gives it BYE within a second and the store is unchanged', async () => {
    const { user, imap, before } = await connectedUser('ls');
    // A second connection of the same user, with the main password: "End" on the first must leave it alone.
    const laptop = await RawClient.connect(live.port);
    expect(await laptop.login(user.username, user.password)).toMatch(/^L1 OK/);
    const me = await browser(user);
    const page = await (await me.get('/options/security')).text();
    const visible = text(page);
    expect(visible).toMatch(/<td[^>]*>IMAP<\/td><td[^>]*>Phone mail app <\/td><td[^>]*>App password<\/td><td[^>]*>127\.0\.0\.1<\/td>/);
    expect(visible).toContain('this browser');
    const action = endActionFor(page, /^End IMAP session of Phone mail app from 127\.0\.0\.1/);
    expect(action).toMatch(/^\/options\/security\/sessions\/live\/[A-Za-z0-9_-]+\/end$/);

    const t0 = Date.now();
    const res = await me.post(action!, { _csrf: csrfIn(page) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/options/security?ended=1');
    // Sent the instant the click returned: it must never reach the store.
    imap.send('d1 STORE 1:* +FLAGS (\\Deleted)\r\nd2 EXPUNGE\r\n');
    const bye = await imap.waitFor(/^\* BYE [^\r]*\r\n/, 3000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(bye[0]).toMatch(/ended from Options/);
    await imap.waitClosed(3000);
    expect(imap.text).not.toMatch(/^d[12] OK/m);
    expect(await snapshotMailbox(user.username)).toEqual(before);
    expect(await laptop.command('n1', 'NOOP')).toMatch(/^n1 OK/);
    await live.ctx.liveSessions.flush();
    const after = text(await (await me.get('/options/security')).text());
    expect(after).not.toContain('Phone mail app');
    expect(after).toMatch(/<td[^>]*>IMAP<\/td><td[^>]*>Main password <\/td>/);
    laptop.close();
  });

  it('a group administrator sees nothing of a member\'s sessions, and the member\'s session id ends nothing', async () => {
    const member = await connectedUser('lm');
    const admin = await createMailUser(live.ctx, 'ld');
    const family = await createGroup(live.ctx, { name: `Family ${admin.username}`, kind: 'family' });
    await addGroupMember(live.ctx, { groupId: family.id, userId: admin.userId, isAdmin: true });
    await addGroupMember(live.ctx, { groupId: family.id, userId: member.user.userId });
    const memberPage = await (await (await browser(member.user)).get('/options/security')).text();
    const memberAction = endActionFor(memberPage, /^End IMAP session/)!;
    const liveId = /live\/([^/]+)\/end/.exec(memberAction)![1]!;

    const boss = await browser(admin);
    const adminPage = text(await (await boss.get('/options/security')).text());
    expect(adminPage).not.toContain('Phone mail app');
    expect(adminPage).not.toMatch(/<td[^>]*>IMAP<\/td>/);
    expect(adminPage).not.toContain(liveId);
    const res = await boss.post(memberAction, { _csrf: await boss.csrf('/options/security') });
    expect(res.headers.get('location')).toBe('/options/security?ended=0');
    await new Promise((r) => setTimeout(r, 300));
    expect(await member.imap.command('n1', 'NOOP')).toMatch(/^n1 OK/);
    member.imap.close();
  });

  it('"End all other sessions" signs the other browser out and ends the IMAP connection, but not this browser', async () => {
    const { user, imap } = await connectedUser('lo');
    const me = await browser(user);
    const other = await browser(user);
    const page = await (await me.get('/options/security')).text();
    expect(page).toContain('End all other sessions');
    const t0 = Date.now();
    const res = await me.post('/options/security/sessions/revoke-others', { _csrf: csrfIn(page) });
    expect(res.headers.get('location')).toBe('/options/security?ended=2');
    await imap.waitFor(/^\* BYE [^\r]*\r\n/, 3000);
    expect(Date.now() - t0).toBeLessThan(1000);
    const next = await other.get('/mail');
    expect(next.status).toBe(303);
    expect(next.headers.get('location')).toMatch(/^\/login/);
    expect((await me.get('/mail')).status).toBe(200);
    expect(text(await (await me.get('/options/security?ended=2')).text())).toContain('2 other sessions ended.');
  });

  it('a restricted session sees the list without buttons; its forged posts are 403, audited, and end nothing', async () => {
    const { user, imap } = await connectedUser('lr');
    await createUserChosenLogin(live.ctx, { userId: user.userId, kind: 'password', secret: 'kiosk password 1', restricted: true, label: 'kiosk' });
    const owner = await browser(user);
    const ownerPage = await (await owner.get('/options/security')).text();
    const imapAction = endActionFor(ownerPage, /^End IMAP session/)!;
    const ownerId = decodeURIComponent(owner.cookies.get('postern_session')!).split('.')[0]!;

    const kiosk = await browser(user, 'kiosk password 1');
    const res = await kiosk.get('/options/security');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(text(page)).toContain('Phone mail app');
    expect(text(page)).toContain('Ending sessions is disabled in this session.');
    expect(page).not.toContain('aria-label="End');
    expect(page).not.toContain('End all other sessions');

    const csrf = csrfIn(page);
    for (const path of [imapAction, `/options/security/sessions/${ownerId}/revoke`, '/options/security/sessions/revoke-others']) {
      expect((await kiosk.post(path, { _csrf: csrf })).status).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await imap.command('n1', 'NOOP')).toMatch(/^n1 OK/);
    expect((await owner.get('/mail')).status).toBe(200);
    const refused = await listAuditEvents(live.ctx.db, { userId: user.userId, events: ['web.request-refused'] });
    expect(refused.filter((e) => e.details.reason === 'restricted.sessions' && e.details.method === 'POST')).toHaveLength(3);
    imap.close();
  });
});
