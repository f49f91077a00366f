/**
 * Web forms that never lose what a person typed (issue 12) and the 1-hour kinds on Options → Alternative
 * Logins (issue 17), through app.request().
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOneTimeList, createUserChosenLogin, listAltLogins } from '../../src/accounts/alt-logins.js';
import { addGroupMember, createGroup, findGroupOfUser } from '../../src/accounts/groups.js';
import { authenticate } from '../../src/auth/authenticate.js';
import { pendingActions, webSessions } from '../../src/db/schema.js';
import { countSms, lastSmsCode } from '../src/auth/fixtures.js';
import { addUser, createWebHarness, csrfIn, grantPersonalCredits, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let userId: number;
const PASSWORD = 'forms main password';

beforeAll(async () => {
  h = await createWebHarness({ SMS_COOLDOWN_SECONDS: '0' });
  userId = (await addUser(h, 'fiona', PASSWORD, { mobile: '+447911123456' })).id;
});
afterAll(() => h.close());

async function steppedUp(username = 'fiona', password = PASSWORD): Promise<WebClient> {
  const client = new WebClient(h);
  await client.login(username, password);
  expect((await client.stepUp(password)).status).toBe(303);
  return client;
}

/** The drawn page, and the CSRF token and form key of one of its forms. */
async function formOf(client: WebClient, form: 'otp' | 'sms' | 'password' | 'app') {
  const html = await (await client.get('/options/alt-logins')).text();
  const card = new RegExp(`action="/options/alt-logins/${form}">[\\s\\S]*?name="form_key" value="([^"]+)"`).exec(html)!;
  return { _csrf: csrfIn(html), form_key: card[1]! };
}

const labels = async () => (await listAltLogins(h.ctx, userId)).map((l) => l.label);

describe('replay protection per drawn form', () => {
  it('a stale tab still creates what it asks for, with the secret typed in it', async () => {
    const client = await steppedUp();
    const tabA = await formOf(client, 'password');
    const tabB = await formOf(client, 'app');
    expect((await client.post('/options/alt-logins/app', { ...tabB, label: 'Tab B app' })).status).toBe(200);
    const res = await client.post('/options/alt-logins/password', {
      ...tabA, label: 'Tab A', secret: 'typed in tab A', confirm: 'typed in tab A', services: ['web'],
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/options/alt-logins?created=1');
    expect(await labels()).toEqual(expect.arrayContaining(['Tab A', 'Tab B app']));
    expect(await authenticate(h.ctx, { username: 'fiona', secret: 'typed in tab A', service: 'web', ip: '192.0.2.50' })).toMatchObject({ ok: true, method: 'password' });
  });

  it('the same form sent twice creates once and says so truthfully; so do two sends at the same moment', async () => {
    const client = await steppedUp();
    const form = { ...(await formOf(client, 'otp')), label: 'Twice', count: '5' };
    expect((await client.post('/options/alt-logins/otp', form)).status).toBe(200);
    const again = await client.post('/options/alt-logins/otp', form);
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain('That form was already sent once, and the login it asked for was created then; nothing more was created.');
    expect((await labels()).filter((l) => l === 'Twice')).toHaveLength(1);

    const parallel = { ...(await formOf(client, 'app')), label: 'Double click' };
    const answers = await Promise.all([client.post('/options/alt-logins/app', parallel), client.post('/options/alt-logins/app', parallel)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await labels()).filter((l) => l === 'Double click')).toHaveLength(1);
  });

  it('shows an error inside the form that failed, focused, with what was typed except the secrets', async () => {
    const client = await steppedUp();
    const res = await client.post('/options/alt-logins/sms', {
      ...(await formOf(client, 'sms')), label: 'My phone', secret: 'sms password 1', confirm: 'sms password 2', services: ['imap'], valid_for: '1h',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    const card = /<div class="card" id="new-sms">([\s\S]*?)<\/form>/.exec(html)![1]!;
    expect(card).toContain('The two passwords are not the same.');
    expect(card).toMatch(/id="sms-label"[^>]*value="My phone"/);
    expect(card).toMatch(/id="sms-secret"[^>]*autofocus/);
    expect(card).toMatch(/value="1h" checked/);
    expect(card).toMatch(/value="imap" checked/);
    expect(card).not.toMatch(/value="web" checked/);
    expect(html).not.toContain('sms password 1');
    // Only that form has the error.
    expect(html.match(/The two passwords are not the same\./g)).toHaveLength(1);
  });
});

describe('step-up keeps the change', () => {
  it('a change sent without a recent confirmation is made right after confirming', async () => {
    const client = new WebClient(h);
    await client.login('fiona', PASSWORD);
    const sent = await client.post('/options/alt-logins/password', {
      ...(await formOf(client, 'password')), label: 'After confirm', secret: 'waited for it', confirm: 'waited for it',
    });
    expect(sent.status).toBe(303);
    const confirmUrl = sent.headers.get('location')!;
    expect(await labels()).not.toContain('After confirm');
    // Kept sealed: the typed password is not in the database in clear.
    expect(JSON.stringify(await h.ctx.db.select().from(pendingActions))).not.toContain('waited for it');
    const page = await (await client.get(confirmUrl)).text();
    expect(page).toMatch(/<a[^>]*href="\/options\/alt-logins"[^>]*aria-current="page"/);
    const pending = /name="pending" value="([^"]+)"/.exec(page)![1]!;
    const done = await client.post('/options/confirm', { _csrf: csrfIn(page), password: PASSWORD, next: '/options/alt-logins', pending });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/options/alt-logins?created=1');
    expect(await labels()).toContain('After confirm');
    expect(await authenticate(h.ctx, { username: 'fiona', secret: 'waited for it', service: 'web', ip: '192.0.2.51' })).toMatchObject({ ok: true });
    // It ran once: the same confirmation again changes nothing more.
    const csrf = await client.csrf('/options/confirm');
    await client.post('/options/confirm', { _csrf: csrf, password: PASSWORD, next: '/options/alt-logins', pending });
    expect((await labels()).filter((l) => l === 'After confirm')).toHaveLength(1);
  });

  it('a waiting change belongs to its session and expires', async () => {
    const owner = new WebClient(h);
    await owner.login('fiona', PASSWORD);
    const sent = await owner.post('/options/alt-logins/app', { ...(await formOf(owner, 'app')), label: 'Not yours' });
    const pending = /pending=([^&]+)/.exec(sent.headers.get('location')!)![1]!;
    const other = new WebClient(h);
    await other.login('fiona', PASSWORD);
    const csrf = await other.csrf('/options/confirm');
    expect((await other.post('/options/confirm', { _csrf: csrf, password: PASSWORD, next: '/options/alt-logins', pending })).headers.get('location')).toBe('/options/alt-logins');
    expect(await labels()).not.toContain('Not yours');

    await h.ctx.db.update(pendingActions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(pendingActions.id, pending));
    const mine = await owner.csrf('/options/confirm');
    await owner.post('/options/confirm', { _csrf: mine, password: PASSWORD, next: '/options/alt-logins', pending });
    expect(await labels()).not.toContain('Not yours');
  });

  it('unticking "Allow SMS two-factor logins" survives the confirmation, which is shown under Manage', async () => {
    const admin = await addUser(h, 'gwen', 'gwen main password');
    const group = await createGroup(h.ctx, { name: 'Gwen Ltd', kind: 'business' });
    await addGroupMember(h.ctx, { groupId: group.id, userId: admin.id, isAdmin: true });
    const { setGroupAllowSms } = await import('../../src/accounts/groups.js');
    await setGroupAllowSms(h.ctx, { groupId: group.id, allowSms: true, actorUserId: admin.id });
    const client = new WebClient(h);
    await client.login('gwen', 'gwen main password');
    const prefs = `/manage/${group.id}/preferences`;
    const csrf = await client.csrf(prefs);
    const sent = await client.post(prefs, { _csrf: csrf, present: '1' });
    expect(sent.headers.get('location')).toMatch(/^\/options\/confirm\?next=%2Fmanage%2F\d+%2Fpreferences&pending=/);
    const page = await (await client.get(sent.headers.get('location')!)).text();
    expect(page).toMatch(new RegExp(`<a[^>]*href="/manage/${group.id}/preferences"[^>]*aria-current="page"`));
    expect(page).not.toMatch(/<a[^>]*href="\/options\/[a-z-]+"[^>]*aria-current="page"/);
    const pending = /name="pending" value="([^"]+)"/.exec(page)![1]!;
    const done = await client.post('/options/confirm', { _csrf: csrfIn(page), password: 'gwen main password', next: `/manage/${group.id}/preferences`, pending });
    expect(done.headers.get('location')).toBe(`${prefs}?saved=1`);
    expect((await findGroupOfUser(h.ctx, admin.id))!.allowSms).toBe(false);
  });
});

describe('the list page', () => {
  it('has column headers with scope and a Revoke button that says what it revokes', async () => {
    await createUserChosenLogin(h.ctx, { userId, kind: 'password', secret: 'named button 1', label: 'Laptop' });
    const client = await steppedUp();
    const html = text(await (await client.get('/options/alt-logins')).text());
    expect(html).not.toMatch(/<th>|<th (?![^>]*scope=)/);
    expect(html).toContain('aria-label="Revoke Alternate password “Laptop”"');
  });
});

describe('1-hour one-time lists and SMS passwords on the web', () => {
  it('creates a 1-hour list with a base password: the print view says so without printing the base', async () => {
    const u = await addUser(h, 'hanna', 'hanna main password');
    const client = await steppedUp('hanna', 'hanna main password');
    const res = await client.post('/options/alt-logins/otp', {
      ...(await formOf(client, 'otp')), label: 'Kiosk list', count: '4', valid_for: '1h', base: 'hanna base secret', base_confirm: 'hanna base secret',
    });
    const html = text(await res.text());
    expect(res.status).toBe(200);
    expect(html).toContain('each code valid for 1 hour from first use');
    expect(html).toContain('Type your base password first, then a code, with nothing between them');
    expect(html).not.toContain('hanna base secret');
    const code = /<span class="code">([^<]+)</.exec(html)![1]!;
    const [list] = await listAltLogins(h.ctx, u.id);
    expect(list).toMatchObject({ validForSeconds: 3600, hasBasePassword: true });

    const kiosk = new WebClient(h);
    expect((await kiosk.post('/login', { username: 'hanna', password: code })).status).toBe(401);
    await kiosk.login('hanna', `hanna base secret${code}`);
    const page = text(await (await client.get('/options/alt-logins')).text());
    expect(page).toContain('One-time password list · each code valid for 1 hour from first use · base password typed first');
    expect(page).toMatch(/in use, valid until \d\d:\d\d UTC/);
    // The kiosk's session ends with the window.
    const [session] = await h.ctx.db.select().from(webSessions).where(and(eq(webSessions.userId, u.id), eq(webSessions.method, 'otp')));
    expect(Math.abs(session!.expiresAt.getTime() - (Date.now() + 3600_000))).toBeLessThan(60_000);
  });

  it('a 1-hour SMS password: the same browser signs in again within the hour without a new SMS', async () => {
    const u = await addUser(h, 'ivy', 'ivy main password', { mobile: '+447911123457' });
    await grantPersonalCredits(h, u.id, 5);
    const client = await steppedUp('ivy', 'ivy main password');
    const made = await client.post('/options/alt-logins/sms', {
      ...(await formOf(client, 'sms')), label: 'Hour', secret: 'ivy sms password', confirm: 'ivy sms password', valid_for: '1h',
    });
    expect(made.status).toBe(303);

    const kiosk = new WebClient(h);
    expect((await kiosk.post('/login', { username: 'ivy', password: 'ivy sms password' })).headers.get('location')).toBe('/login/code');
    const code = await lastSmsCode(h.ctx);
    const entered = await kiosk.post('/login/code', { code });
    expect(entered.headers.get('location')).toBe('/mail');
    const sent = await countSms(h.ctx);
    await kiosk.post('/logout', { _csrf: await kiosk.csrf('/mail') });

    const again = await kiosk.post('/login', { username: 'ivy', password: 'ivy sms password' });
    expect(again.headers.get('location')).toBe('/mail');
    expect(await countSms(h.ctx)).toBe(sent);
    // Another browser has no window: it gets a code of its own.
    const other = new WebClient(h);
    expect((await other.post('/login', { username: 'ivy', password: 'ivy sms password' })).headers.get('location')).toBe('/login/code');
    expect(await countSms(h.ctx)).toBe(sent + 1);
    // A forged window cookie is ignored.
    const forged = new WebClient(h);
    forged.cookies.set('postern_sms_window', `${kiosk.cookies.get('postern_sms_window')!.split('.').slice(0, 2).join('.')}.${'A'.repeat(43)}`);
    expect((await forged.post('/login', { username: 'ivy', password: 'ivy sms password' })).headers.get('location')).toBe('/login/code');
  });
});

describe('login answers', () => {
  it('a reused one-time code says a code works once, and an unknown account gets the very same answer', async () => {
    const u = await addUser(h, 'jack', 'jack main password');
    const { codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 2 });
    await new WebClient(h).login('jack', codes[0]!.code);
    const reused = await new WebClient(h).post('/login', { username: 'jack', password: codes[0]!.code });
    const unknown = await new WebClient(h).post('/login', { username: 'nobody-at-all', password: codes[0]!.code });
    const message = (r: string) => /role="alert">([^<]+)</.exec(r)![1]!;
    const a = message(await reused.text());
    expect(a).toContain('A code from a one-time list can be used once');
    expect(message(await unknown.text())).toBe(a);
    expect([reused.status, unknown.status]).toEqual([401, 401]);
    const wrong = await new WebClient(h).post('/login', { username: 'jack', password: 'not a code at all' });
    expect(message(await wrong.text())).toBe('Wrong username or password.');
  });
});

describe('control characters in form fields', () => {
  it('a NUL byte in the login username, a personality name or a label is one clear sentence, never a 500', async () => {
    const expectRefused = async (res: Response) => {
      expect(res.status).toBe(400);
      const html = text(await res.text());
      expect(html).toContain('The form contained a character that cannot be typed, such as a NUL byte or another control character.');
      expect(html).not.toMatch(/at .*\.ts|stack|SQL/i);
    };
    await expectRefused(await new WebClient(h).post('/login', { username: 'fiona\u0000', password: PASSWORD }));
    await expectRefused(await new WebClient(h).post('/login', { username: 'fiona', password: 'x\u0007y' }));
    const client = await steppedUp();
    const csrf = await client.csrf('/options/personalities');
    await expectRefused(await client.post('/options/personalities/new', { _csrf: csrf, name: 'Evil\u0000Name', email: 'f@example.test', mobile: '' }));
    await expectRefused(await client.post('/options/alt-logins/app', { ...(await formOf(client, 'app')), label: 'tab\u001bhere' }));
    await expectRefused(await client.post('/options/alt-logins/app', { ...(await formOf(client, 'app')), ['la\u0000bel']: 'x' }));
    expect(await labels()).not.toContain('tab\u001bhere');
    // Tabs and line breaks are ordinary text.
    expect((await client.post('/options/alt-logins/app', { ...(await formOf(client, 'app')), label: 'tab\there' })).status).toBe(200);
  });
});

describe('the Mobile number for SMS', () => {
  it('refuses a premium-rate number next to the field, and keeps the old number', async () => {
    const client = await steppedUp();
    const { listPersonalities } = await import('../../src/accounts/personalities.js');
    const [p] = await listPersonalities(h.ctx, userId);
    const csrf = await client.csrf('/options/personalities');
    const res = await client.post(`/options/personalities/${p!.id}`, { _csrf: csrf, name: p!.name, email: p!.email, mobile: '+44 909 879 0000' });
    expect(res.status).toBe(422);
    expect(text(await res.text())).toContain('That is a premium-rate number, not a mobile number: codes are only sent to mobile numbers.');
    expect((await listPersonalities(h.ctx, userId))[0]!.mobile).toBe('+447911123456');
  });
});
