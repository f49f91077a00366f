/**
 * Issue 7's four steps, literally, in headless Debian Chromium with JavaScript off, through the labels a
 * person reads: the administrator allows SMS logins and buys credits; the member sets their Mobile number
 * and creates an SMS password; the member logs in with it and the code from the fake Twilio API; the
 * group's balance went down by one and SMS credit history shows who and when. Screenshots of the Manage
 * overview and the usage chart go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { addGroupMember, createGroup, type Group } from '../../src/accounts/groups.js';
import { createUser } from '../../src/accounts/users.js';
import { getCreditBalance } from '../../src/credits/accounts.js';
import { artifactPath, type RunningServer } from '../helpers/browser.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { startBrowserHarness, type BrowserHarness } from './browser-harness.js';
import type { WebHarness } from './harness.js';

let b: BrowserHarness;
let fake: FakeTwilio;
let h: WebHarness;
let server: RunningServer;
let acme: Group;
const MOBILE = '+447911123442';
const ADA = { username: 'ada', password: 'ada main password' };
const MEL = { username: 'mel', password: 'mel main password', sms: 'mel sms password' };

beforeAll(async () => {
  b = await startBrowserHarness();
  ({ fake, h, server } = b);
  const ada = await createUser(h.ctx, { username: ADA.username, password: ADA.password, email: 'ada@acme.example' });
  const mel = await createUser(h.ctx, { username: MEL.username, password: MEL.password, email: 'mel@acme.example' });
  acme = await createGroup(h.ctx, { name: 'Acme Ltd', kind: 'business' });
  await addGroupMember(h.ctx, { groupId: acme.id, userId: ada.id, isAdmin: true });
  await addGroupMember(h.ctx, { groupId: acme.id, userId: mel.id });
});
afterAll(() => b?.close());

async function confirmPassword(page: Page, password: string) {
  await page.getByRole('link', { name: 'Confirm your password now' }).click();
  await page.getByLabel('Main password').fill(password);
  await page.getByRole('button', { name: 'Confirm' }).click();
}

const sidebar = (page: Page) => page.locator('nav.sidebar');

describe('Business/Family SMS logins, end to end in a real browser', () => {
  it('administrator allows SMS logins and buys credits; member sets a Mobile number, creates an SMS password and logs in with it; the group pays one credit', async () => {
    const { context, page } = await b.kiosk();
    try {
      // 1. Manage → Business/Family Preferences → Allow SMS two-factor logins.
      await b.logIn(page, ADA.username, ADA.password);
      await expect.poll(() => page.url()).toBe(`${server.url}/mail`);
      await sidebar(page).getByRole('link', { name: 'Manage' }).click();
      await sidebar(page).getByRole('link', { name: 'Business/Family Preferences' }).click();
      await confirmPassword(page, ADA.password);
      await expect.poll(() => page.url()).toBe(`${server.url}/manage/${acme.id}/preferences`);
      expect(await page.getByRole('link', { name: 'Buy SMS Credits' }).count()).toBe(0);
      await page.getByLabel('Allow SMS two-factor logins').check();
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/manage/${acme.id}/preferences?saved=1`);
      expect(await sidebar(page).getByRole('link', { name: 'Buy SMS Credits' }).count()).toBe(1);
      await sidebar(page).getByRole('link', { name: 'Business/Family', exact: true }).click();
      expect(await page.locator('main').getByRole('link', { name: 'Buy SMS Credits' }).count()).toBeGreaterThan(0);

      // 2. Manage → Buy SMS Credits: a pack, and the confirmation with the new balance.
      await sidebar(page).getByRole('link', { name: 'Buy SMS Credits' }).click();
      await page.getByRole('radio', { name: /^50 SMS credits/ }).check();
      await page.getByRole('button', { name: 'Buy' }).click();
      await expect.poll(() => page.url()).toMatch(new RegExp(`/manage/${acme.id}/buy/orders/\\d+$`));
      await expect(page.locator('#new-balance').textContent()).resolves.toBe('50');
      await expect(page.getByText('50 SMS credits were added to Acme Ltd.').count()).resolves.toBe(1);
      await sidebar(page).getByRole('link', { name: 'Business/Family', exact: true }).click();
      await expect(page.locator('#sms-balance').textContent()).resolves.toBe('50');
      await page.screenshot({ path: artifactPath('manage-overview.png'), fullPage: true });
      await page.getByRole('button', { name: 'Sign out' }).click();

      // 3. The member: Options → Personalities → Mobile number; Options → Alternative Logins → SMS Password.
      await b.logIn(page, MEL.username, MEL.password);
      expect(await sidebar(page).getByRole('link', { name: 'Manage' }).count()).toBe(0);
      await sidebar(page).getByRole('link', { name: 'Options' }).click();
      await sidebar(page).getByRole('link', { name: 'Personalities' }).click();
      await confirmPassword(page, MEL.password);
      await expect.poll(() => page.url()).toBe(`${server.url}/options/personalities`);
      const defaultCard = page.locator('.card').filter({ has: page.locator('.tag', { hasText: 'default' }) });
      await defaultCard.getByLabel('Mobile number').fill('+44 7911 123442');
      await defaultCard.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/options/personalities?ok=saved`);
      await expect(page.locator('[role=status]').first().textContent()).resolves.toBe('Saved.');
      await sidebar(page).getByRole('link', { name: 'Alternative Logins' }).click();
      const smsForm = page.locator('form[action="/options/alt-logins/sms"]');
      await expect(smsForm.getByText('SMS logins are paid by Acme Ltd, which has SMS credits available.').count()).resolves.toBe(1);
      await smsForm.getByLabel('SMS password').fill(MEL.sms);
      await smsForm.getByLabel('Repeat it').fill(MEL.sms);
      await smsForm.getByRole('button', { name: 'Create SMS password' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/options/alt-logins?created=1`);
      await page.getByRole('button', { name: 'Sign out' }).click();

      // 4. Logging in with the SMS password and the code that arrived on the phone.
      const before = Date.now();
      await b.logIn(page, MEL.username, MEL.sms);
      await expect.poll(() => page.url()).toBe(`${server.url}/login/code`);
      const code = fake.lastCodeFor(MOBILE);
      expect(code).toMatch(/^\d{6}$/);
      await page.getByLabel('Code').fill(code!);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/mail`);
      await expect(page.locator('.whoami').textContent()).resolves.toContain('with an SMS password and code');
      expect(await getCreditBalance(h.ctx.db, { groupId: acme.id })).toBe(49);
      await page.getByRole('button', { name: 'Sign out' }).click();

      // The ledger shows who used the credit and when.
      await b.logIn(page, ADA.username, ADA.password);
      await sidebar(page).getByRole('link', { name: 'Manage' }).click();
      await sidebar(page).getByRole('link', { name: 'SMS credit history' }).click();
      await expect(page.locator('#sms-balance').textContent()).resolves.toBe('49');
      const newest = page.locator('#ledger tbody tr').first();
      await expect(newest.getAttribute('data-kind')).resolves.toBe('sms_debit');
      await expect(newest.locator('td.who').textContent()).resolves.toBe('mel');
      await expect(newest.locator('td.num').first().textContent()).resolves.toBe('−1');
      const at = Date.parse((await newest.locator('time').getAttribute('datetime'))!);
      expect(at).toBeGreaterThanOrEqual(before - 1000);
      expect(at).toBeLessThanOrEqual(Date.now());
      await page.getByRole('link', { name: 'Usage, last 30 days' }).click();
      await expect(page.locator('svg.usage-chart rect title').first().textContent()).resolves.toMatch(/^mel: 1 on \d{4}-\d{2}-\d{2}$/);
      await page.screenshot({ path: artifactPath('manage-usage.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
