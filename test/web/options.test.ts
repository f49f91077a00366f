import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin, listAltLogins } from '../../src/accounts/alt-logins.js';
import { listPersonalities } from '../../src/accounts/personalities.js';
import { listAuditEvents } from '../../src/audit.js';
import { addUser, createWebHarness, csrfIn, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let userId: number;
const PASSWORD = 'main password 1';

beforeAll(async () => {
  h = await createWebHarness();
  userId = (await addUser(h, 'olivia', PASSWORD)).id;
});
afterAll(() => h.close());

async function loggedIn(): Promise<WebClient> {
  const client = new WebClient(h);
  await client.login('olivia', PASSWORD);
  return client;
}

async function steppedUp(): Promise<WebClient> {
  const client = await loggedIn();
  const res = await client.stepUp(PASSWORD);
  expect(res.status).toBe(303);
  return client;
}

describe('Options access', () => {
  it('refuses restricted sessions on every Options URL, GET and POST, with 403 and an audit row', async () => {
    await createUserChosenLogin(h.ctx, { userId, kind: 'password', secret: 'restricted pass 1', restricted: true, label: 'kiosk' });
    const client = new WebClient(h);
    await client.login('olivia', 'restricted pass 1');
    const mail = await client.get('/mail');
    const csrf = csrfIn(await mail.text());
    // Options → Security is the exception (issue 16): restricted sessions see their sessions there.
    for (const path of ['/options/alt-logins', '/options/personalities']) {
      expect((await client.get(path)).status).toBe(403);
    }
    const post = await client.post('/options/alt-logins/app', { _csrf: csrf, after: '999999', label: 'lift me' });
    expect(post.status).toBe(403);
    expect((await listAltLogins(h.ctx, userId)).some((l) => l.label === 'lift me')).toBe(false);
    const refused = await listAuditEvents(h.ctx.db, { userId, events: ['web.request-refused'] });
    expect(refused.some((e) => e.details.reason === 'restricted-session' && e.details.method === 'POST')).toBe(true);
  });

  it('refuses a session made with an unrestricted alternate password (403)', async () => {
    await createUserChosenLogin(h.ctx, { userId, kind: 'password', secret: 'alternate pass 2', label: 'laptop' });
    const client = new WebClient(h);
    await client.login('olivia', 'alternate pass 2');
    const res = await client.get('/options/alt-logins');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('main password');
  });

  it('hides Options from the sidebar of restricted sessions and shows it to main-password sessions', async () => {
    const kiosk = new WebClient(h);
    await kiosk.login('olivia', 'restricted pass 1');
    const restricted = await (await kiosk.get('/mail')).text();
    expect(restricted).toContain('href="/mail"');
    expect(restricted).not.toContain('href="/options');
    const full = await (await (await loggedIn()).get('/options/security')).text();
    expect(full).toContain('href="/options/alt-logins"');
    expect(full).toContain('aria-current="page"');
  });

  it('sends a change without a recent password confirmation to the confirm page, and changes nothing', async () => {
    const client = await loggedIn();
    const csrf = await client.csrf('/options/alt-logins');
    const before = (await listAltLogins(h.ctx, userId)).length;
    const res = await client.post('/options/alt-logins/app', { _csrf: csrf, form_key: 'k'.repeat(24), label: 'x' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/options\/confirm\?next=%2Foptions%2Falt-logins&pending=[A-Za-z0-9_-]{24}$/);
    expect((await listAltLogins(h.ctx, userId)).length).toBe(before);
  });

  it('step-up with the wrong password is refused; with the right one the session token changes', async () => {
    const client = await loggedIn();
    const token = client.cookies.get('postern_session');
    expect((await client.stepUp('not my password')).status).toBe(401);
    const ok = await client.stepUp(PASSWORD);
    expect(ok.headers.get('location')).toBe('/options/alt-logins');
    expect(client.cookies.get('postern_session')).not.toBe(token);
    const stale = new WebClient(h);
    stale.cookies.set('postern_session', token!);
    expect((await stale.get('/mail')).status).toBe(303);
  });

  it('does not redirect anywhere outside Options after step-up', async () => {
    const client = await loggedIn();
    const csrf = await client.csrf('/options/confirm');
    const res = await client.post('/options/confirm', { _csrf: csrf, password: PASSWORD, next: '//evil.example/' });
    expect(res.headers.get('location')).toBe('/options');
  });
});

describe('Options → Alternative Logins', () => {
  it('creates an alternate password and lists it with kind, label, restricted and services', async () => {
    const client = await steppedUp();
    const page = await (await client.get('/options/alt-logins')).text();
    const after = /name="form_key" value="([^"]+)"/.exec(page)![1]!;
    const res = await client.post('/options/alt-logins/password', {
      _csrf: csrfIn(page), form_key: after, label: 'Phone', secret: 'phone password 1', confirm: 'phone password 1', services: ['imap', 'smtp'], restricted: '1',
    });
    expect(res.headers.get('location')).toBe('/options/alt-logins?created=1');
    const list = text(await (await client.get('/options/alt-logins?created=1')).text());
    expect(list).toContain('The login was created.');
    expect(list).toMatch(/Alternate password<\/td><td[^>]*>Phone<\/td><td[^>]*><span class="tag warn">restricted<\/span><\/td><td[^>]*>imap, smtp<\/td>/);
  });

  it('explains a too-short password without creating anything', async () => {
    const client = await steppedUp();
    const page = await (await client.get('/options/alt-logins')).text();
    const after = /name="form_key" value="([^"]+)"/.exec(page)![1]!;
    const res = await client.post('/options/alt-logins/sms', { _csrf: csrfIn(page), form_key: after, label: 'S', secret: 'short', confirm: 'short' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('at least 8 characters');
  });

  it('shows an app password once, and a reload of that form creates no second one', async () => {
    const client = await steppedUp();
    const page = await (await client.get('/options/alt-logins')).text();
    const form = { _csrf: csrfIn(page), form_key: /name="form_key" value="([^"]+)"/.exec(page)![1]!, label: 'Thunderbird', services: ['imap', 'smtp'] };
    const res = await client.post('/options/alt-logins/app', form);
    const html = await res.text();
    expect(html).toContain('It will not be shown again.');
    const secret = /id="app-password">([^<]+)</.exec(html)![1]!.trim();
    expect(secret.length).toBeGreaterThanOrEqual(20);
    expect(await (await client.get('/options/alt-logins')).text()).not.toContain(secret);
    const again = await client.post('/options/alt-logins/app', form);
    expect(again.status).toBe(409);
    expect((await listAltLogins(h.ctx, userId)).filter((l) => l.label === 'Thunderbird')).toHaveLength(1);
  });

  it('shows a new one-time list once, as a numbered grid with a print stylesheet and "I have printed it"', async () => {
    const client = await steppedUp();
    const page = await (await client.get('/options/alt-logins')).text();
    const res = await client.post('/options/alt-logins/otp', {
      _csrf: csrfIn(page), form_key: /name="form_key" value="([^"]+)"/.exec(page)![1]!, label: 'Wallet', count: '20',
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html.match(/<span class="n">\d+\.<\/span>/g)).toHaveLength(20);
    expect(html).toContain('<span class="n">20.</span>');
    expect(html).toContain('I have printed it');
    const list = text(await (await client.get('/options/alt-logins')).text());
    expect(list).toContain('20 of 20');
  });

  it('revokes a login: it disappears from the list and no longer logs in', async () => {
    const login = await createUserChosenLogin(h.ctx, { userId, kind: 'password', secret: 'to be revoked 1', label: 'old' });
    const client = await steppedUp();
    const csrf = await client.csrf('/options/alt-logins');
    const res = await client.post(`/options/alt-logins/${login.id}/revoke`, { _csrf: csrf });
    expect(res.headers.get('location')).toBe('/options/alt-logins?revoked=1');
    expect((await listAltLogins(h.ctx, userId)).some((l) => l.id === login.id)).toBe(false);
    expect((await new WebClient(h).post('/login', { username: 'olivia', password: 'to be revoked 1' })).status).toBe(401);
  });
});

describe('Options → Personalities', () => {
  it('rejects a malformed Mobile number with a readable error and keeps the personality unchanged', async () => {
    const client = await steppedUp();
    const [p] = await listPersonalities(h.ctx, userId);
    const csrf = await client.csrf('/options/personalities');
    const res = await client.post(`/options/personalities/${p!.id}`, { _csrf: csrf, name: 'Renamed', email: 'olivia@example.test', mobile: '12345' });
    expect(res.status).toBe(422);
    expect(text(await res.text())).toContain('That mobile number is not valid. Write it with its country code');
    expect((await listPersonalities(h.ctx, userId))[0]!.name).toBe(p!.name);
  });

  it('stores a valid Mobile number as E.164 and audits the change with the last digits only', async () => {
    const client = await steppedUp();
    const [p] = await listPersonalities(h.ctx, userId);
    const csrf = await client.csrf('/options/personalities');
    const res = await client.post(`/options/personalities/${p!.id}`, { _csrf: csrf, name: 'Olivia', email: 'olivia@example.test', mobile: '+44 7911 123456' });
    expect(res.status).toBe(303);
    expect((await listPersonalities(h.ctx, userId))[0]!.mobile).toBe('+447911123456');
    const [event] = await listAuditEvents(h.ctx.db, { userId, events: ['personality.mobile-changed'] });
    expect(event!.details).toMatchObject({ after: '56' });
    expect(JSON.stringify(event)).not.toContain('7911123456');
  });

  it('adds a personality and makes it the default', async () => {
    const client = await steppedUp();
    let csrf = await client.csrf('/options/personalities');
    await client.post('/options/personalities/new', { _csrf: csrf, name: 'Work', email: 'olivia@work.example', mobile: '' });
    const work = (await listPersonalities(h.ctx, userId)).find((x) => x.name === 'Work')!;
    csrf = await client.csrf('/options/personalities');
    await client.post(`/options/personalities/${work.id}/default`, { _csrf: csrf });
    expect((await listPersonalities(h.ctx, userId)).find((x) => x.isDefault)!.id).toBe(work.id);
  });
});

describe('Options → Security', () => {
  it('lists recent logins and active sessions, and signs out one session or every other one', async () => {
    const me = await loggedIn();
    const other = await loggedIn();
    const third = await loggedIn();
    const html = text(await (await me.get('/options/security')).text());
    expect(html).toContain('this session');
    expect(html).toContain('Main password');
    expect(html).toContain(me.ip);
    const ids = [...html.matchAll(/\/options\/security\/sessions\/([A-Za-z0-9_-]+)\/revoke/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const otherId = decodeURIComponent(other.cookies.get('postern_session')!).split('.')[0]!;
    let csrf = csrfIn(html);
    await me.post(`/options/security/sessions/${otherId}/revoke`, { _csrf: csrf });
    expect((await other.get('/mail')).status).toBe(303);
    csrf = await me.csrf('/options/security');
    const res = await me.post('/options/security/sessions/revoke-others', { _csrf: csrf });
    expect(res.headers.get('location')).toMatch(/^\/options\/security\?ended=\d+$/);
    expect((await third.get('/mail')).status).toBe(303);
    expect((await me.get('/options/security')).status).toBe(200);
  });
});
