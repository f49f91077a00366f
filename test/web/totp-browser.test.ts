/**
 * Authenticator app in a real browser (Chromium, JavaScript off): enrolment on Options → Alternative
 * Logins by reading the shown secret off the page and computing the code here, as a phone would; then a
 * web login with the password and a code on the second page, which names nothing of the account; the
 * same code again is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAltLogins } from '../../src/accounts/alt-logins.js';
import { base32Decode, hotp, timeStep } from '../../src/auth/totp.js';
import { artifactPath } from '../helpers/browser.js';
import { startBrowserHarness, type BrowserHarness } from './browser-harness.js';
import { addUser } from './harness.js';

let b: BrowserHarness;

beforeAll(async () => {
  b = await startBrowserHarness();
});
afterAll(() => b?.close());

describe('authenticator app in a real browser', () => {
  it('enrols with the code computed from the shown secret, then logs in with password + code once', async () => {
    const url = b.server.url;
    const user = await addUser(b.h, 'tomas', 'tomas main password');
    const { context, page } = await b.kiosk();
    try {
      await b.logIn(page, 'tomas', 'tomas main password');
      await page.goto(`${url}/options/alt-logins`);
      await page.getByRole('link', { name: 'Confirm your password now' }).click();
      await page.getByLabel('Main password').fill('tomas main password');
      await page.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.url()).toBe(`${url}/options/alt-logins`);

      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await page.waitForSelector('#totp-secret');
      expect(await page.locator('.qr svg path').count()).toBeGreaterThan(0);
      const shown = (await page.locator('#totp-secret').textContent())!.trim();
      expect(shown).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
      // The secret is shown for the person, never carried in clear in the form or the URL.
      const compact = shown.replace(/ /g, '');
      expect(await page.locator('input[name="enrolment"]').getAttribute('value')).not.toContain(compact);
      expect(page.url()).not.toContain(compact);
      await page.screenshot({ path: artifactPath('totp-enrol.png'), fullPage: true });
      const secret = base32Decode(shown)!;

      const form = page.locator('#confirm-totp form');
      await form.getByLabel('Label').fill('My phone');
      await form.getByLabel('Password for this login').fill('tomas phone pass');
      await form.getByLabel('Repeat it').fill('tomas phone pass');
      await form.getByLabel('Code the app shows now').fill('000000' === hotp(secret, timeStep(new Date())) ? '111111' : '000000');
      await form.getByRole('button', { name: 'Confirm and create' }).click();
      await expect(page.locator('#confirm-totp .notice').textContent()).resolves.toContain('not the current one');
      // The page drawn again keeps the same secret, so the app scanned first still works.
      expect((await page.locator('#totp-secret').textContent())!.trim()).toBe(shown);
      await form.getByLabel('Password for this login').fill('tomas phone pass');
      await form.getByLabel('Repeat it').fill('tomas phone pass');
      const enrolStep = timeStep(new Date());
      await form.getByLabel('Code the app shows now').fill(hotp(secret, enrolStep));
      await form.getByRole('button', { name: 'Confirm and create' }).click();
      await expect.poll(() => page.url()).toBe(`${url}/options/alt-logins?created=1`);
      const [login] = await listAltLogins(b.h.ctx, user.id);
      expect(login).toMatchObject({ kind: 'totp', label: 'My phone' });
      await page.getByRole('button', { name: 'Sign out' }).click();

      await b.logIn(page, 'tomas', 'tomas phone pass');
      await expect.poll(() => page.url()).toBe(`${url}/login/app-code`);
      const codePage = (await page.locator('body').textContent())!;
      expect(codePage).not.toContain('tomas');
      expect(codePage).not.toContain('My phone');
      await page.screenshot({ path: artifactPath('totp-code.png'), fullPage: true });
      // The code that confirmed the enrolment cannot open a session: use the next step's (a phone a little ahead).
      const code = hotp(secret, Math.max(timeStep(new Date()), enrolStep + 1));
      await page.getByLabel('Code').fill(code);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.url()).toBe(`${url}/mail`);
      await expect(page.locator('.whoami').textContent()).resolves.toContain('authenticator-app code (“My phone”)');
      await page.getByRole('button', { name: 'Sign out' }).click();

      await b.logIn(page, 'tomas', 'tomas phone pass');
      await expect.poll(() => page.url()).toBe(`${url}/login/app-code`);
      await page.getByLabel('Code').fill(code);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page.locator('.notice').textContent()).resolves.toContain('That code is not right');
      expect(page.url()).toBe(`${url}/login/app-code`);
    } finally {
      await context.close();
    }
  });
});
