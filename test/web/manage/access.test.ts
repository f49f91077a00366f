/**
 * Who may reach Manage, tested on every route: an administrator of another group gets 404 (as for a group
 * that does not exist) and changes nothing; a plain member gets 403; restricted and alternate-login
 * sessions get 403; a visitor is sent to the login page; a form without the session's CSRF token is 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { findGroupById } from '../../../src/accounts/group-admin.js';
import { listGroupMembers, setGroupAllowSms } from '../../../src/accounts/groups.js';
import { listAuditEvents } from '../../../src/audit.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { purchaseCredits } from '../../../src/credits/purchases.js';
import { createWebHarness, csrfIn, WebClient, type WebHarness } from '../harness.js';
import { createGroups, PASSWORDS, steppedUp, type Groups } from './fixtures.js';

let h: WebHarness;
let g: Groups;
let orderId: number;

beforeAll(async () => {
  h = await createWebHarness();
  g = await createGroups(h);
  await setGroupAllowSms(h.ctx, { groupId: g.acme.id, allowSms: true });
  orderId = (await purchaseCredits(h.ctx, { owner: { groupId: g.acme.id }, credits: 50, idempotencyKey: 'access-test-order-1', actorUserId: g.ids.ada })).order.id;
});
afterAll(() => h.close());

interface Route {
  name: string;
  method: 'GET' | 'POST';
  path: (groupId: number) => string;
  form?: () => Record<string, string>;
}

/** Every Manage page and form; a POST carries what a real form would, aimed at group `groupId`. */
const ROUTES: Route[] = [
  { name: 'GET /manage/:g', method: 'GET', path: (id) => `/manage/${id}` },
  { name: 'GET /manage/:g/overview', method: 'GET', path: (id) => `/manage/${id}/overview` },
  { name: 'GET /manage/:g/members', method: 'GET', path: (id) => `/manage/${id}/members` },
  { name: 'GET /manage/:g/preferences', method: 'GET', path: (id) => `/manage/${id}/preferences` },
  { name: 'GET /manage/:g/buy', method: 'GET', path: (id) => `/manage/${id}/buy` },
  { name: 'GET /manage/:g/buy/orders/:order', method: 'GET', path: (id) => `/manage/${id}/buy/orders/${orderId}` },
  { name: 'GET /manage/:g/history', method: 'GET', path: (id) => `/manage/${id}/history` },
  { name: 'GET /manage/:g/history (filtered)', method: 'GET', path: (id) => `/manage/${id}/history?member=${g.ids.mel}&type=sms_debit&page=1` },
  { name: 'GET /manage/:g/history/usage', method: 'GET', path: (id) => `/manage/${id}/history/usage` },
  { name: 'POST /manage/:g/preferences', method: 'POST', path: (id) => `/manage/${id}/preferences`, form: () => ({ present: '1' }) },
  { name: 'POST /manage/:g/buy', method: 'POST', path: (id) => `/manage/${id}/buy`, form: () => ({ credits: '50', idempotency_key: `k${Math.random().toString(36).slice(2)}xxxxxxxxxxxxxxxx` }) },
  { name: 'POST /manage/:g/members/add', method: 'POST', path: (id) => `/manage/${id}/members/add`, form: () => ({ username: 'bob' }) },
  { name: 'POST /manage/:g/members/create', method: 'POST', path: (id) => `/manage/${id}/members/create`, form: () => ({ username: 'intruder' }) },
  { name: 'POST /manage/:g/members/:mel/remove', method: 'POST', path: (id) => `/manage/${id}/members/${g.ids.mel}/remove`, form: () => ({}) },
  { name: 'POST /manage/:g/members/:mel/admin (make)', method: 'POST', path: (id) => `/manage/${id}/members/${g.ids.mel}/admin`, form: () => ({ admin: '1' }) },
  { name: 'POST /manage/:g/members/:ada/admin (unmake)', method: 'POST', path: (id) => `/manage/${id}/members/${g.ids.ada}/admin`, form: () => ({ admin: '0' }) },
];

async function send(client: WebClient, route: Route, groupId: number, csrf: string | null): Promise<Response> {
  const path = route.path(groupId);
  if (route.method === 'GET') return client.get(path);
  return client.post(path, { ...(csrf ? { _csrf: csrf } : {}), ...route.form!() });
}

/** What an intruder could have changed in Acme Ltd. */
async function acmeState() {
  return {
    allowSms: (await findGroupById(h.ctx, g.acme.id))!.allowSms,
    members: (await listGroupMembers(h.ctx, g.acme.id)).map((m) => `${m.username}:${m.isAdmin}`),
    balance: await getCreditBalance(h.ctx.db, { groupId: g.acme.id }),
  };
}

describe('Manage access, route by route', () => {
  it.each(ROUTES.map((r) => [r.name, r] as const))(
    '%s: 404 for an administrator of another group, and nothing changes',
    async (_name, route) => {
      const bob = await steppedUp(h, 'bob');
      const csrf = await bob.csrf('/mail');
      const before = await acmeState();
      const res = await send(bob, route, g.acme.id, csrf);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('Acme');
      expect(await acmeState()).toEqual(before);
      // The same answer as for a group that does not exist: ids cannot be probed.
      expect((await send(bob, route, 999_999, csrf)).status).toBe(404);
    },
  );

  it.each(ROUTES.map((r) => [r.name, r] as const))(
    '%s: 403 for a member who is not an administrator, and nothing changes',
    async (_name, route) => {
      const mel = await steppedUp(h, 'mel');
      const csrf = await mel.csrf('/mail');
      const before = await acmeState();
      expect((await send(mel, route, g.acme.id, csrf)).status).toBe(403);
      expect(await acmeState()).toEqual(before);
    },
  );

  it('audits refusals with the refused user and the path', async () => {
    const refused = await listAuditEvents(h.ctx.db, { events: ['web.request-refused'], limit: 1000 });
    expect(refused.some((e) => e.userId === g.ids.bob && e.details.reason === 'not-this-group' && String(e.details.path).startsWith(`/manage/${g.acme.id}`))).toBe(true);
    expect(refused.some((e) => e.userId === g.ids.mel && e.details.reason === 'not-group-admin')).toBe(true);
  });

  it('refuses restricted and alternate-login sessions of an administrator on every route (403)', async () => {
    await createUserChosenLogin(h.ctx, { userId: g.ids.ada, kind: 'password', secret: 'ada restricted 1', restricted: true, label: 'kiosk' });
    await createUserChosenLogin(h.ctx, { userId: g.ids.ada, kind: 'password', secret: 'ada alternate 1', label: 'laptop' });
    for (const secret of ['ada restricted 1', 'ada alternate 1']) {
      const client = new WebClient(h);
      await client.login('ada', secret);
      const csrf = await client.csrf('/mail');
      expect(await (await client.get('/mail')).text()).not.toContain('href="/manage');
      const before = await acmeState();
      for (const route of ROUTES) expect([route.method, route.path(g.acme.id), (await send(client, route, g.acme.id, csrf)).status]).toEqual([route.method, route.path(g.acme.id), 403]);
      expect(await acmeState()).toEqual(before);
    }
  });

  it('sends a visitor to the login page and refuses their forms (401)', async () => {
    const visitor = new WebClient(h);
    for (const route of ROUTES) {
      const res = await send(visitor, route, g.acme.id, null);
      if (route.method === 'GET') expect(res.headers.get('location')).toBe('/login');
      else expect(res.status).toBe(401);
    }
  });

  it('refuses an administrator’s form without the session’s CSRF token (403), and one from another site', async () => {
    const ada = await steppedUp(h, 'ada');
    const before = await acmeState();
    for (const route of ROUTES.filter((r) => r.method === 'POST')) {
      expect((await send(ada, route, g.acme.id, 'forged-token')).status).toBe(403);
    }
    const csrf = await ada.csrf(`/manage/${g.acme.id}/preferences`);
    const crossSite = await ada.post(`/manage/${g.acme.id}/preferences`, { _csrf: csrf, present: '1' }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(await acmeState()).toEqual(before);
  });

  it('sends a change without a recent password confirmation to the confirm page, which returns to Manage', async () => {
    const ada = new WebClient(h);
    await ada.login('ada', PASSWORDS.ada);
    const page = await (await ada.get(`/manage/${g.acme.id}/preferences`)).text();
    expect(page).toContain(`/options/confirm?next=%2Fmanage%2F${g.acme.id}%2Fpreferences`);
    const res = await ada.post(`/manage/${g.acme.id}/preferences`, { _csrf: csrfIn(page), present: '1' });
    expect(res.status).toBe(303);
    // The change waits for the confirmation (issue 12), which returns to the very page it came from.
    expect(res.headers.get('location')).toMatch(new RegExp(`^/options/confirm\\?next=${encodeURIComponent(`/manage/${g.acme.id}/preferences`)}&pending=[A-Za-z0-9_-]{24}$`));
    expect((await findGroupById(h.ctx, g.acme.id))!.allowSms).toBe(true);
    const confirm = await ada.post('/options/confirm', { _csrf: csrfIn(page), password: PASSWORDS.ada, next: `/manage/${g.acme.id}/preferences` });
    expect(confirm.headers.get('location')).toBe(`/manage/${g.acme.id}/preferences`);
  });

  it('takes Manage away from an administrator at their next request once they are no longer one', async () => {
    const ada = await steppedUp(h, 'ada');
    const mel = await steppedUp(h, 'mel');
    const path = `/manage/${g.acme.id}/members`;
    expect((await ada.post(`${path}/${g.ids.mel}/admin`, { _csrf: await ada.csrf(path), admin: '1' })).status).toBe(303);
    expect((await mel.get(path)).status).toBe(200);
    expect((await mel.post(`${path}/${g.ids.mel}/admin`, { _csrf: await mel.csrf(path), admin: '0' })).headers.get('location')).toBe('/mail');
    expect((await mel.get(path)).status).toBe(403);
  });
});
