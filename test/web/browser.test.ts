/**
 * The important journeys in a real browser (Debian Chromium, headless, JavaScript as the browser has it,
 * but no page uses any): SMS login on a kiosk with the code from the fake Twilio API, one-time list
 * creation then login with one code and its reuse refused, the restricted banner. Screenshots go to
 * test/artifacts/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { RESTRICTED_BANNER } from '../../web/views/layout.js';
import { artifactPath, type RunningServer } from '../helpers/browser.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { startBrowserHarness, type BrowserHarness } from './browser-harness.js';
import { addUser, grantPersonalCredits, type WebHarness } from './harness.js';

let b: BrowserHarness;
let fake: FakeTwilio;
let h: WebHarness;
let server: RunningServer;
const MOBILE = '+447911123442';

beforeAll(async () => {
  b = await startBrowserHarness();
  ({ fake, h, server } = b);
});
afterAll(() => b?.close());

describe('in a real browser', () => {
  it('logs in on a kiosk with an SMS password and the code that arrived by SMS, into a restricted session', async () => {
    const user = await addUser(h, 'kim', 'kims main password', { mobile: MOBILE });
    await grantPersonalCredits(h, user.id, 5);
    await createUserChosenLogin(h.ctx, { userId: user.id, kind: 'sms', secret: 'kiosk sms pass', restricted: true, label: 'Travel' });
    const { context, page } = await b.kiosk();
    try {
      await page.goto(`${server.url}/login`);
      await page.screenshot({ path: artifactPath('login.png'), fullPage: true });
      await b.logIn(page, 'kim', 'kiosk sms pass');
      await expect.poll(() => page.url()).toBe(`${server.url}/login/code`);
      await expect(page.locator('.masked').textContent()).resolves.toBe('•••• ••42');
      await page.screenshot({ path: artifactPath('sms-code.png'), fullPage: true });
      const code = fake.lastCodeFor(MOBILE);
      expect(code).toMatch(/^\d{6}$/);
      expect(fake.messages.at(-1)!.body).toBe(`Your Postern login code is ${code}. It expires in 10 minutes.`);
      await page.getByLabel('Code').fill(code!);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/mail`);
      await expect(page.locator('.banner-restricted').textContent()).resolves.toBe(RESTRICTED_BANNER);
      await expect(page.locator('.whoami').textContent()).resolves.toContain('with an SMS password and code (“Travel”)');
      expect(await page.locator('a[href^="/options"]').count()).toBe(0);
      await page.screenshot({ path: artifactPath('mail-restricted.png'), fullPage: true });
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/login?signed-out=1`);
    } finally {
      await context.close();
    }
  });

  it('creates a one-time list, prints it, logs in with one code, and the same code is refused the second time', async () => {
    await addUser(h, 'otto', 'ottos main password');
    const { context, page } = await b.kiosk();
    try {
      await b.logIn(page, 'otto', 'ottos main password');
      await page.getByRole('link', { name: 'Options' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/options/alt-logins`);
      await page.getByRole('link', { name: 'Confirm your password now' }).click();
      await page.getByLabel('Main password').fill('ottos main password');
      await page.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/options/alt-logins`);

      const form = page.locator('form[action="/options/alt-logins/otp"]');
      await form.getByLabel('Label').fill('Wallet card');
      await form.getByLabel('Number of codes').fill('40');
      await form.getByLabel(/Restricted/).check();
      await form.getByRole('button', { name: 'Create and print the list' }).click();
      await page.waitForSelector('.otp-grid');
      expect(await page.locator('.otp-grid li').count()).toBe(40);
      await page.screenshot({ path: artifactPath('otp-list.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: artifactPath('otp-print.png'), fullPage: true });
      await page.emulateMedia({ media: 'screen' });
      const code = (await page.locator('.otp-grid li').nth(6).locator('.code').textContent())!;
      await page.getByRole('link', { name: 'I have printed it' }).click();
      await expect.poll(() => page.url()).toBe(`${server.url}/options/alt-logins`);
      expect(await page.getByText('40 of 40').count()).toBe(1);
      await page.getByRole('button', { name: 'Sign out' }).click();

      await b.logIn(page, 'otto', code);
      await expect.poll(() => page.url()).toBe(`${server.url}/mail`);
      await expect(page.locator('.banner-restricted').textContent()).resolves.toBe(RESTRICTED_BANNER);
      await expect(page.locator('.whoami').textContent()).resolves.toContain('with a one-time code (“Wallet card”)');
      await page.getByRole('button', { name: 'Sign out' }).click();

      await b.logIn(page, 'otto', code);
      // Issue 12: a reused code says why, without telling whether the account exists (see login.test.ts).
      await expect(page.locator('[role=alert]').textContent()).resolves.toBe(
        'Wrong username or password. A code from a one-time list can be used once (a code from a 1-hour list: for one hour after its first use).',
      );
      expect(page.url()).toBe(`${server.url}/login`);
    } finally {
      await context.close();
    }
  });
});
