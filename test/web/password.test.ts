import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { createMemberAccount } from '../../src/accounts/group-admin.js';
import { createGroup } from '../../src/accounts/groups.js';
import { getDefaultPersonality, listPersonalities } from '../../src/accounts/personalities.js';
import { createUser, findUserById } from '../../src/accounts/users.js';
import { listAuditEvents } from '../../src/audit.js';
import { authenticate } from '../../src/auth/authenticate.js';
import { addUser, createWebHarness, csrfIn, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let groupId: number;
let adminId: number;

beforeAll(async () => {
  h = await createWebHarness();
  adminId = (await addUser(h, 'gwen', 'admin password 1')).id;
  groupId = (await createGroup(h.ctx, { name: 'Gwen Family', kind: 'family' })).id;
});
afterAll(() => h.close());

async function loggedIn(username: string, password: string): Promise<WebClient> {
  const client = new WebClient(h);
  await client.login(username, password);
  return client;
}

/** A fresh user per test, so one test's password change cannot disturb another. */
let n = 0;
async function freshUser(password = 'old password 1') {
  const username = `pat${++n}`;
  return { username, password, id: (await addUser(h, username, password)).id };
}

async function changeForm(client: WebClient, form: { current: string; password: string; confirm: string }) {
  const csrf = await client.csrf('/options/password');
  return client.post('/options/password', { _csrf: csrf, ...form });
}

async function webLoginWorks(username: string, password: string): Promise<boolean> {
  const res = await new WebClient(h).post('/login', { username, password });
  return res.status === 303 && res.headers.get('location') === '/mail';
}

function imapLogin(username: string, secret: string) {
  return authenticate(h.ctx, { username, secret, service: 'imap', ip: '192.0.2.77' });
}

async function passwordChanges(userId: number) {
  return listAuditEvents(h.ctx.db, { userId, events: ['password.changed'] });
}

describe('Options → Password', () => {
  it('is listed under Options in the sidebar', async () => {
    const u = await freshUser();
    const html = await (await (await loggedIn(u.username, u.password)).get('/options/password')).text();
    expect(html).toContain('href="/options/password"');
    expect(html).toContain('Current password');
  });

  it('refuses a wrong current password with a readable error and changes nothing', async () => {
    const u = await freshUser();
    const client = await loggedIn(u.username, u.password);
    const res = await changeForm(client, { current: 'not my password', password: 'new password 1', confirm: 'new password 1' });
    expect(res.status).toBe(401);
    expect(text(await res.text())).toContain('The current password is not correct.');
    expect(await webLoginWorks(u.username, u.password)).toBe(true);
    expect(await webLoginWorks(u.username, 'new password 1')).toBe(false);
    expect(await passwordChanges(u.id)).toHaveLength(0);
  });

  it('refuses a confirmation that differs from the new password and changes nothing', async () => {
    const u = await freshUser();
    const client = await loggedIn(u.username, u.password);
    const res = await changeForm(client, { current: u.password, password: 'new password 1', confirm: 'new password 2' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('The two new passwords are not the same.');
    expect(await webLoginWorks(u.username, u.password)).toBe(true);
    expect(await passwordChanges(u.id)).toHaveLength(0);
  });

  it('refuses a too-short new password with the minimum length and changes nothing', async () => {
    const u = await freshUser();
    const client = await loggedIn(u.username, u.password);
    const res = await changeForm(client, { current: u.password, password: 'short', confirm: 'short' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('at least 8 characters');
    expect(await webLoginWorks(u.username, u.password)).toBe(true);
    expect(await passwordChanges(u.id)).toHaveLength(0);
  });

  it('changes the password: old one fails on the web and IMAP at once, new one works, other sessions end, this one gets a new token', async () => {
    const u = await freshUser();
    expect((await imapLogin(u.username, u.password)).ok).toBe(true); // now cached
    const other = await loggedIn(u.username, u.password);
    const client = await loggedIn(u.username, u.password);
    const tokenBefore = client.cookies.get('postern_session');

    const res = await changeForm(client, { current: u.password, password: 'brand new password', confirm: 'brand new password' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/options/password?changed=1');
    expect(client.cookies.get('postern_session')).not.toBe(tokenBefore);
    const after = await client.get('/options/password?changed=1');
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('Your password was changed.');

    expect((await imapLogin(u.username, u.password)).ok).toBe(false);
    expect((await imapLogin(u.username, 'brand new password')).ok).toBe(true);
    expect(await webLoginWorks(u.username, u.password)).toBe(false);
    expect(await webLoginWorks(u.username, 'brand new password')).toBe(true);

    const otherPage = await other.get('/mail');
    expect(otherPage.status).toBe(303);
    expect(otherPage.headers.get('location')).toMatch(/^\/login/);

    const audited = await passwordChanges(u.id);
    expect(audited).toHaveLength(1);
    expect(JSON.stringify(audited)).not.toContain('brand new password');
  });

  it('refuses restricted and alternate-password sessions with 403 and changes nothing', async () => {
    const u = await freshUser();
    await createUserChosenLogin(h.ctx, { userId: u.id, kind: 'password', secret: 'kiosk password 1', restricted: true, label: 'kiosk' });
    await createUserChosenLogin(h.ctx, { userId: u.id, kind: 'password', secret: 'laptop password 1', label: 'laptop' });
    for (const secret of ['kiosk password 1', 'laptop password 1']) {
      const client = await loggedIn(u.username, secret);
      const csrf = await client.csrf('/mail');
      expect((await client.get('/options/password')).status).toBe(403);
      const res = await client.post('/options/password', { _csrf: csrf, current: u.password, password: 'taken over 1', confirm: 'taken over 1' });
      expect(res.status).toBe(403);
    }
    expect(await webLoginWorks(u.username, u.password)).toBe(true);
    expect(await passwordChanges(u.id)).toHaveLength(0);
  });

  it('counts wrong current passwords against the login throttle', async () => {
    const u = await freshUser();
    const client = await loggedIn(u.username, u.password);
    let last = 0;
    for (let i = 0; i < 12 && last !== 429; i++) {
      last = (await changeForm(client, { current: `guess number ${i}`, password: 'new password 1', confirm: 'new password 1' })).status;
    }
    expect(last).toBe(429);
    expect(await passwordChanges(u.id)).toHaveLength(0);
  });
});

describe('First login of a member created by an administrator', () => {
  let m = 0;
  async function newMember() {
    const username = `member${++m}`;
    const { user, initialPassword } = await createMemberAccount(h.ctx, { groupId, username, email: `${username}@example.org`, actorUserId: adminId });
    return { username, id: user.id, initialPassword };
  }

  async function choose(client: WebClient, password: string, confirm = password) {
    const csrf = await client.csrf('/choose-password');
    return client.post('/choose-password', { _csrf: csrf, password, confirm });
  }

  it('marks the account, and sends every page of the first web session to "Choose your password"', async () => {
    const member = await newMember();
    expect((await findUserById(h.ctx, member.id))?.mustChangePassword).toBe(true);
    const client = await loggedIn(member.username, member.initialPassword);
    for (const path of ['/mail', '/options/alt-logins', '/options/password', `/manage/${groupId}/overview`, '/']) {
      const res = await client.get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toBe('/choose-password');
    }
    const page = await client.get('/choose-password');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Choose your password');
    expect(html).not.toContain('href="/options');
    // A form post elsewhere runs nothing either.
    const post = await client.post('/options/alt-logins/app', { _csrf: csrfIn(html), label: 'sneaky', after: '1' });
    expect(post.headers.get('location')).toBe('/choose-password');
    expect(await passwordChanges(member.id)).toHaveLength(0);
  });

  it('keeps IMAP working with the initial password until the member chooses theirs', async () => {
    const member = await newMember();
    expect((await imapLogin(member.username, member.initialPassword)).ok).toBe(true);
  });

  it('refuses a mismatched or too-short choice and keeps the account marked', async () => {
    const member = await newMember();
    const client = await loggedIn(member.username, member.initialPassword);
    const mismatch = await choose(client, 'my own password 1', 'my own password 2');
    expect(mismatch.status).toBe(422);
    expect(await mismatch.text()).toContain('not the same');
    const short = await choose(client, 'short');
    expect(short.status).toBe(422);
    expect(await short.text()).toContain('at least 8 characters');
    expect((await findUserById(h.ctx, member.id))?.mustChangePassword).toBe(true);
    expect((await client.get('/mail')).headers.get('location')).toBe('/choose-password');
  });

  it('completes: the flag clears, pages open, the initial password stops working everywhere, other sessions end', async () => {
    const member = await newMember();
    expect((await imapLogin(member.username, member.initialPassword)).ok).toBe(true); // now cached
    const other = await loggedIn(member.username, member.initialPassword);
    const client = await loggedIn(member.username, member.initialPassword);
    const res = await choose(client, 'my own password 1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail');
    expect((await client.get('/mail')).status).toBe(200);
    expect((await client.get('/options/password')).status).toBe(200);
    expect((await client.get('/choose-password')).headers.get('location')).toBe('/mail');
    expect((await findUserById(h.ctx, member.id))?.mustChangePassword).toBe(false);
    expect((await imapLogin(member.username, member.initialPassword)).ok).toBe(false);
    expect(await webLoginWorks(member.username, member.initialPassword)).toBe(false);
    expect(await webLoginWorks(member.username, 'my own password 1')).toBe(true);
    expect((await other.get('/mail')).headers.get('location')).toMatch(/^\/login/);
    expect(await passwordChanges(member.id)).toHaveLength(1);
  });

  it('does not let an alternate or restricted session of a marked member choose the main password', async () => {
    const member = await newMember();
    await createUserChosenLogin(h.ctx, { userId: member.id, kind: 'password', secret: 'kiosk password 1', restricted: true, label: 'kiosk' });
    const kiosk = await loggedIn(member.username, 'kiosk password 1');
    expect((await kiosk.get('/mail')).status).toBe(200);
    const csrf = await kiosk.csrf('/mail');
    const res = await kiosk.post('/choose-password', { _csrf: csrf, password: 'taken over 1', confirm: 'taken over 1' });
    expect(res.headers.get('location')).toBe('/mail');
    expect((await findUserById(h.ctx, member.id))?.mustChangePassword).toBe(true);
    expect(await webLoginWorks(member.username, 'taken over 1')).toBe(false);
  });
});

describe('Personalities of a user created without an email address', () => {
  it('leaves the default personality without an address, and the page saves a Mobile number', async () => {
    const user = await createUser(h.ctx, { username: 'nomail', password: 'nomail password' });
    expect((await getDefaultPersonality(h.ctx, user.id))?.email).toBe('');
    const client = await loggedIn('nomail', 'nomail password');
    await client.stepUp('nomail password');
    const [p] = await listPersonalities(h.ctx, user.id);
    const html = await (await client.get('/options/personalities')).text();
    expect(html).not.toMatch(/name="email"[^>]*required/);
    const res = await client.post(`/options/personalities/${p!.id}`, { _csrf: csrfIn(html), name: 'nomail', email: '', mobile: '+44 7911 123456' });
    expect(res.status).toBe(303);
    expect(await getDefaultPersonality(h.ctx, user.id)).toMatchObject({ email: '', mobile: '+447911123456' });
  });

  it('uses the login name as the address when it is one', async () => {
    const user = await createUser(h.ctx, { username: 'ida@example.org', password: 'ida password 1' });
    expect((await getDefaultPersonality(h.ctx, user.id))?.email).toBe('ida@example.org');
  });

  it('still refuses a malformed address typed into the field', async () => {
    const user = await createUser(h.ctx, { username: 'badmail', password: 'badmail password' });
    const client = await loggedIn('badmail', 'badmail password');
    await client.stepUp('badmail password');
    const [p] = await listPersonalities(h.ctx, user.id);
    const csrf = await client.csrf('/options/personalities');
    const res = await client.post(`/options/personalities/${p!.id}`, { _csrf: csrf, name: 'badmail', email: 'badmail', mobile: '' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('That email address is not valid.');
  });
});
