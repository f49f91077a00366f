/**
 * The Manage screens through app.request(): overview, Business/Family Preferences, Buy SMS Credits,
 * Members, SMS credit history and the usage chart, as an administrator sees and uses them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGroupById } from '../../../src/accounts/group-admin.js';
import { addGroupMember, createGroup, listGroupMembers } from '../../../src/accounts/groups.js';
import { listAuditEvents } from '../../../src/audit.js';
import { ensureCreditAccount, getCreditBalance } from '../../../src/credits/accounts.js';
import { applyCreditChange } from '../../../src/credits/ledger.js';
import { creditOrders } from '../../../src/db/schema.js';
import { addUser, createWebHarness, csrfIn, text, WebClient, type WebHarness } from '../harness.js';
import { createGroups, steppedUp, type Groups } from './fixtures.js';

let h: WebHarness;
let g: Groups;

beforeAll(async () => {
  h = await createWebHarness({ SMS_LOW_BALANCE_WARNING: '10' });
  g = await createGroups(h);
});
afterAll(() => h.close());

const base = () => `/manage/${g.acme.id}`;

async function page(client: WebClient, path: string): Promise<string> {
  const res = await client.get(path);
  expect(res.status).toBe(200);
  return text(await res.text());
}

async function setAllowSms(client: WebClient, on: boolean) {
  const csrf = await client.csrf(`${base()}/preferences`);
  const res = await client.post(`${base()}/preferences`, { _csrf: csrf, present: '1', ...(on ? { allow_sms: '1' } : {}) });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe(`${base()}/preferences?saved=1`);
}

async function buy(client: WebClient, credits: number, key?: string): Promise<Response> {
  const html = await page(client, `${base()}/buy`);
  const idempotencyKey = key ?? /name="idempotency_key" value="([^"]+)"/.exec(html)![1]!;
  return client.post(`${base()}/buy`, { _csrf: csrfIn(html), credits: String(credits), idempotency_key: idempotencyKey });
}

describe('Business/Family overview', () => {
  it('shows name, kind, members and administrators, and the sidebar entry Manage to the administrator', async () => {
    const ada = await steppedUp(h, 'ada');
    const res = await ada.get('/manage');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${base()}/overview`);
    const html = await page(ada, `${base()}/overview`);
    expect(html).toContain('Acme Ltd');
    expect(html).toContain('Business');
    expect(html).toMatch(/id="member-count">2</);
    expect(html).toMatch(/<ul class="plain" id="admin-list"><li>ada<\/li><\/ul>/);
    expect(html).toContain('<li>mel ');
    expect(html).toContain('>Manage<');
    expect(html).not.toContain('id="sms-balance"');
  });

  it('does not show Manage in the sidebar of a plain member', async () => {
    const mel = await steppedUp(h, 'mel');
    const html = await page(mel, '/options/security');
    expect(html).not.toContain('href="/manage');
  });
});

describe('Business/Family Preferences and Buy SMS Credits', () => {
  it('shows Buy SMS Credits on the screen and in the sidebar only once Allow SMS two-factor logins is ticked, and audits the change', async () => {
    const ada = await steppedUp(h, 'ada');
    const before = await page(ada, `${base()}/preferences`);
    expect(before).toContain('Allow SMS two-factor logins');
    expect(before).not.toContain('Buy SMS Credits');
    expect(await page(ada, `${base()}/overview`)).not.toContain('Buy SMS Credits');

    await setAllowSms(ada, true);
    expect((await findGroupById(h.ctx, g.acme.id))!.allowSms).toBe(true);
    const after = await page(ada, `${base()}/preferences?saved=1`);
    expect(after).toMatch(/name="allow_sms" value="1" checked/);
    expect(after).toContain(`<a href="${base()}/buy">Buy SMS Credits</a>`);
    const overview = await page(ada, `${base()}/overview`);
    expect(overview).toContain('Buy SMS Credits');
    expect(overview).toMatch(/id="sms-balance">0</);

    const events = await listAuditEvents(h.ctx.db, { groupId: g.acme.id, events: ['group.changed'] });
    expect(events[0]!.actorUserId).toBe(g.ids.ada);
    expect(events[0]!.details).toMatchObject({ change: 'allow-sms', allowSms: true });
  });

  it('buys a pack once even when the same form is sent twice, and confirms with the new balance', async () => {
    const ada = await steppedUp(h, 'ada');
    const html = await page(ada, `${base()}/buy`);
    expect(html).toContain('50 SMS credits');
    expect(html).toContain('€5.00');
    const key = /name="idempotency_key" value="([^"]+)"/.exec(html)![1]!;
    const first = await buy(ada, 50, key);
    const second = await buy(ada, 50, key);
    expect(first.status).toBe(303);
    const receipt = first.headers.get('location')!;
    expect(receipt).toMatch(new RegExp(`^${base()}/buy/orders/\\d+$`));
    expect(second.headers.get('location')).toBe(`${receipt}?repeated=1`);
    expect(await getCreditBalance(h.ctx.db, { groupId: g.acme.id })).toBe(50);
    const confirmation = await page(ada, receipt);
    expect(confirmation).toContain('50 SMS credits were added to Acme Ltd.');
    expect(confirmation).toMatch(/id="new-balance">50</);
    expect(await page(ada, `${receipt}?repeated=1`)).toContain('nothing more was bought');
  });

  it('refuses a pack that is not on offer and a purchase while SMS logins are not allowed', async () => {
    const ada = await steppedUp(h, 'ada');
    expect((await buy(ada, 7)).status).toBe(422);
    const other = await createGroup(h.ctx, { name: 'Quiet Co', kind: 'business' });
    const quinn = await addUser(h, 'quinn', 'quinn main password');
    await addGroupMember(h.ctx, { groupId: other.id, userId: quinn.id, isAdmin: true });
    const client = new WebClient(h);
    await client.login('quinn', 'quinn main password');
    await client.stepUp('quinn main password');
    const buyPage = await page(client, `/manage/${other.id}/buy`);
    expect(buyPage).toContain('Tick <strong>Allow SMS two-factor logins</strong>');
    const res = await client.post(`/manage/${other.id}/buy`, { _csrf: csrfIn(buyPage), credits: '50', idempotency_key: 'k'.repeat(24) });
    expect(res.status).toBe(409);
    expect(await getCreditBalance(h.ctx.db, { groupId: other.id })).toBe(0);
  });

  it('does not show another group’s order receipt to this group (404)', async () => {
    const ada = await steppedUp(h, 'ada');
    const [order] = await h.ctx.db.select().from(creditOrders);
    const bobs = await ensureCreditAccount(h.ctx.db, { groupId: g.bobs.id });
    const [foreign] = await h.ctx.db
      .insert(creditOrders)
      .values({ accountId: bobs.id, idempotencyKey: 'foreign-order-key-1', credits: 50, provider: 'invoice', status: 'paid' })
      .returning();
    expect((await ada.get(`${base()}/buy/orders/${order!.id}`)).status).toBe(200);
    expect((await ada.get(`${base()}/buy/orders/${foreign!.id}`)).status).toBe(404);
  });

  it('warns below the low-balance threshold', async () => {
    const ada = await steppedUp(h, 'ada');
    const account = await ensureCreditAccount(h.ctx.db, { groupId: g.acme.id });
    const balance = await getCreditBalance(h.ctx.db, { groupId: g.acme.id });
    await h.ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: 9 - balance, kind: 'adjustment', reason: 'test' }));
    expect(await page(ada, `${base()}/overview`)).toContain('Only 9 SMS credits left');
    await h.ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: 1, kind: 'adjustment', reason: 'test' }));
    expect(await page(ada, `${base()}/overview`)).not.toContain('SMS credits left');
  });
});

describe('Members', () => {
  it('adds an existing user by username, and explains when there is no such user or they belong elsewhere', async () => {
    const ada = await steppedUp(h, 'ada');
    await addUser(h, 'nina', 'nina main password');
    let csrf = await ada.csrf(`${base()}/members`);
    const res = await ada.post(`${base()}/members/add`, { _csrf: csrf, username: 'nina' });
    expect(res.status).toBe(303);
    expect(await page(ada, res.headers.get('location')!)).toContain('The member was added.');
    expect((await listGroupMembers(h.ctx, g.acme.id)).map((m) => m.username)).toContain('nina');
    csrf = await ada.csrf(`${base()}/members`);
    const missing = await ada.post(`${base()}/members/add`, { _csrf: csrf, username: 'nobody-here' });
    expect(missing.status).toBe(422);
    expect(text(await missing.text())).toContain('There is no such user.');
    const taken = await ada.post(`${base()}/members/add`, { _csrf: csrf, username: 'bob' });
    expect(taken.status).toBe(422);
    expect(text(await taken.text())).toContain('already belongs to a business or family');
    const added = await listAuditEvents(h.ctx.db, { groupId: g.acme.id, events: ['group.member-added'] });
    expect(added[0]!.actorUserId).toBe(g.ids.ada);
  });

  it('creates an account for a new member whose initial password is shown once and works for logging in', async () => {
    const ada = await steppedUp(h, 'ada');
    const csrf = await ada.csrf(`${base()}/members`);
    const res = await ada.post(`${base()}/members/create`, { _csrf: csrf, username: 'Omar', email: 'omar@acme.example' });
    expect(res.status).toBe(200);
    const html = await res.text();
    const password = /id="initial-password">([^<]+)</.exec(html)![1]!;
    expect(password).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(html).toContain('It will not be shown again.');
    expect(await page(ada, `${base()}/members`)).not.toContain(password);
    const audits = JSON.stringify(await listAuditEvents(h.ctx.db, { limit: 1000 }));
    expect(audits).not.toContain(password);
    const noEmail = await ada.post(`${base()}/members/create`, { _csrf: csrf, username: 'pia', email: '' });
    expect(noEmail.status).toBe(422);
    expect(text(await noEmail.text())).toContain('That email address is not valid.');
    const omar = new WebClient(h);
    await omar.login('omar', password);
    expect((await listGroupMembers(h.ctx, g.acme.id)).find((m) => m.username === 'omar')?.isAdmin).toBe(false);
  });

  it('makes and unmakes an administrator, removes a member, and never lets the last administrator go', async () => {
    const ada = await steppedUp(h, 'ada');
    const path = `${base()}/members`;
    // ada is the only administrator: no step-down or remove buttons for her, and hand-made posts fail.
    const lone = await page(ada, path);
    expect(lone).toContain('The only administrator');
    let csrf = csrfIn(lone);
    const selfRemove = await ada.post(`${path}/${g.ids.ada}/remove`, { _csrf: csrf });
    expect(selfRemove.status).toBe(409);
    expect(text(await selfRemove.text())).toContain('needs at least one administrator');
    expect((await ada.post(`${path}/${g.ids.ada}/admin`, { _csrf: csrf, admin: '0' })).status).toBe(409);

    const promote = await ada.post(`${path}/${g.ids.mel}/admin`, { _csrf: csrf, admin: '1' });
    expect(promote.headers.get('location')).toBe(`${path}?ok=admin`);
    expect((await listGroupMembers(h.ctx, g.acme.id)).find((m) => m.userId === g.ids.mel)?.isAdmin).toBe(true);
    csrf = await ada.csrf(path);
    expect((await ada.post(`${path}/${g.ids.mel}/admin`, { _csrf: csrf, admin: '0' })).headers.get('location')).toBe(`${path}?ok=member`);

    const nina = (await listGroupMembers(h.ctx, g.acme.id)).find((m) => m.username === 'nina')!;
    expect((await ada.post(`${path}/${nina.userId}/remove`, { _csrf: csrf })).headers.get('location')).toBe(`${path}?ok=removed`);
    expect((await listGroupMembers(h.ctx, g.acme.id)).some((m) => m.username === 'nina')).toBe(false);
    const removed = await listAuditEvents(h.ctx.db, { groupId: g.acme.id, events: ['group.member-removed'] });
    expect(removed[0]).toMatchObject({ userId: nina.userId, actorUserId: g.ids.ada });
  });

  it('does nothing to a user of another group named by id in this group’s form', async () => {
    const ada = await steppedUp(h, 'ada');
    const csrf = await ada.csrf(`${base()}/members`);
    const res = await ada.post(`${base()}/members/${g.ids.bob}/remove`, { _csrf: csrf });
    expect(res.status).toBe(422);
    expect((await listGroupMembers(h.ctx, g.bobs.id)).map((m) => m.userId)).toEqual([g.ids.bob]);
  });
});

describe('SMS credit history', () => {
  it('lists the ledger newest first, pages it, and filters by member and by type', async () => {
    const ada = await steppedUp(h, 'ada');
    const account = await ensureCreditAccount(h.ctx.db, { groupId: g.acme.id });
    await h.ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: 40, kind: 'adjustment', actorUserId: g.ids.ada, reason: 'goodwill' }));
    await h.ctx.db.transaction(async (tx) => {
      for (let i = 0; i < 30; i++) await applyCreditChange(tx, { accountId: account.id, delta: -1, kind: 'sms_debit', userId: g.ids.mel });
    });
    const first = await page(ada, `${base()}/history`);
    expect(first).toMatch(/Page 1 of 2 · 3\d entries/);
    expect(first.match(/<tr data-kind="/g)!.length).toBe(25);
    expect(first).toMatch(/<tbody><tr data-kind="sms_debit">/);
    expect(first).not.toContain('goodwill');
    expect(await page(ada, `${base()}/history?page=2`)).toContain('by ada · goodwill');

    const debits = await page(ada, `${base()}/history?member=${g.ids.mel}&type=sms_debit`);
    expect(debits).toContain('Page 1 of 2 · 30 entries');
    expect(debits).not.toContain('data-kind="adjustment"');
    expect(debits).toMatch(/<td[^>]*class="who">mel<\/td>/);
    const second = await page(ada, `${base()}/history?member=${g.ids.mel}&type=sms_debit&page=2`);
    expect(second.match(/<tr data-kind="sms_debit"/g)!.length).toBe(5);
    expect(second).toContain('rel="prev"');
    const purchases = await page(ada, `${base()}/history?type=purchase`);
    expect(purchases).toContain('by ada');
    expect(purchases).not.toContain('data-kind="sms_debit"');
  });

  it('draws the usage of the last 30 days per member as server-side SVG, without any script', async () => {
    const ada = await steppedUp(h, 'ada');
    const res = await ada.get(`${base()}/history/usage`);
    const html = await res.text();
    expect(html).toContain('<svg viewBox="0 0 760 280"');
    expect(html).toContain('role="img"');
    expect(html).toMatch(/<title>mel: 30 on \d{4}-\d{2}-\d{2}<\/title>/);
    expect(html).not.toContain('<script');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(text(html)).toContain('30 SMS credits used in the last 30 days: mel 30.');
    const filtered = await page(ada, `${base()}/history/usage?member=${g.ids.ada}`);
    expect(filtered).toContain('No SMS credits used in the last 30 days.');
  });
});
