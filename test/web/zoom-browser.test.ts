/**
 * Every Options and Manage page, and the login and error pages, in headless Chromium as a kiosk shows them:
 * in standards mode (a doctype, not quirks), legible at 1024×768 and at 200% zoom (a 512×384 CSS-pixel
 * viewport at device scale 2) without horizontal scrolling, with a skip link that is the first thing Tab
 * reaches, header cells with a scope, unique ids, and buttons whose accessible names say what they act on. The pages are filled the way a
 * real account fills them (long labels, several logins of each kind, ledger rows), because an empty table
 * never overflows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createAppPassword, createOneTimeList, createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { addGroupMember, createGroup, type Group } from '../../src/accounts/groups.js';
import { createPersonality, listPersonalities, setMobile } from '../../src/accounts/personalities.js';
import { createUser } from '../../src/accounts/users.js';
import { grantCredits } from '../../src/credits/grant.js';
import { artifactPath } from '../helpers/browser.js';
import { startBrowserHarness, type BrowserHarness } from './browser-harness.js';

let b: BrowserHarness;
let acme: Group;
const ADA = { username: 'ada', password: 'ada main password' };

beforeAll(async () => {
  b = await startBrowserHarness();
  const ctx = b.h.ctx;
  const ada = await createUser(ctx, { username: ADA.username, password: ADA.password, email: 'ada.lovelace-byron@analytical-engines.example' });
  const mel = await createUser(ctx, { username: 'melisande-of-the-long-name', password: 'mel main password', email: 'mel@acme.example' });
  acme = await createGroup(ctx, { name: 'Acme Analytical Engines & Difference Machines Ltd', kind: 'business', allowSms: true });
  await addGroupMember(ctx, { groupId: acme.id, userId: ada.id, isAdmin: true });
  await addGroupMember(ctx, { groupId: acme.id, userId: mel.id });
  const [first] = await listPersonalities(ctx, ada.id);
  await setMobile(ctx, { userId: ada.id, personalityId: first!.id, mobile: '+447911123442' });
  await createPersonality(ctx, { userId: ada.id, name: 'Countess of Lovelace (correspondence)', email: 'countess.of.lovelace@correspondence.example' });
  await createUserChosenLogin(ctx, { userId: ada.id, kind: 'password', secret: 'hotel lobby password 1', label: 'Hotel lobby kiosk, Lisbon, third floor', restricted: true });
  await createUserChosenLogin(ctx, { userId: ada.id, kind: 'sms', secret: 'travel sms password 1', label: 'Travelling in Portugal and Spain' });
  await createAppPassword(ctx, { userId: ada.id, label: 'Thunderbird on the home desktop computer', services: ['imap', 'smtp'] });
  await createOneTimeList(ctx, { userId: ada.id, label: 'Wallet card for conference week' });
  for (let i = 0; i < 3; i++) await grantCredits(ctx, { owner: { groupId: acme.id }, credits: 25, reason: `Quarterly top-up agreed with the finance department, batch ${i + 1}` });
});
afterAll(() => b?.close());

async function logInAndConfirm(page: Page) {
  await b.logIn(page, ADA.username, ADA.password);
  await expect.poll(() => page.url()).toBe(`${b.server.url}/mail`);
  // Manage asks for a recent password confirmation; one confirmation covers the rest of the walk.
  await page.goto(`${b.server.url}/manage/${acme.id}/preferences`);
  await page.getByRole('link', { name: 'Confirm your password now' }).click();
  await page.getByLabel('Main password').fill(ADA.password);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect.poll(() => page.url()).toBe(`${b.server.url}/manage/${acme.id}/preferences`);
}

/** A fresh kiosk, logged in as ADA with the password confirmed; the context is closed whatever happens. */
async function asAda(run: (page: Page) => Promise<void>): Promise<void> {
  const { context, page } = await b.kiosk();
  try {
    await logInAndConfirm(page);
    await run(page);
  } finally {
    await context.close();
  }
}

const pages = () => [
  '/options',
  '/options/alt-logins',
  '/options/personalities',
  '/options/password',
  '/options/security',
  `/manage/${acme.id}/overview`,
  `/manage/${acme.id}/members`,
  `/manage/${acme.id}/preferences`,
  `/manage/${acme.id}/buy`,
  `/manage/${acme.id}/history`,
  `/manage/${acme.id}/history/usage`,
  '/no-such-page',
];

/** The few browser globals these checks read inside the page (the project compiles without the DOM library). */
interface PageElement {
  id: string;
  tagName: string;
  className: unknown;
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { right: number };
}
declare const document: {
  compatMode: string;
  documentElement: { clientWidth: number; scrollWidth: number };
  activeElement: PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};

/** How far the document is wider than the viewport, and which element sticks out furthest (for the message). */
function overflow(page: Page): Promise<{ excess: number; culprit: string }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    let culprit = '';
    let right = width;
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right > right + 0.5) {
        right = r.right;
        culprit = `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}`;
      }
    }
    return { excess: document.documentElement.scrollWidth - width, culprit };
  });
}

describe('Options and Manage at a kiosk: standards mode, 200% zoom, skip link, accessible names', () => {
  for (const [name, viewport] of [
    ['1024×768', { width: 1024, height: 768 }],
    ['200% zoom of 1024×768', { width: 512, height: 384 }],
  ] as const) {
    it(`no page scrolls sideways at ${name}, and each renders in standards mode`, async () => {
      const context = await b.chrome.browser.newContext({ viewport, deviceScaleFactor: viewport.width === 512 ? 2 : 1, javaScriptEnabled: false });
      const page = await context.newPage();
      try {
        await logInAndConfirm(page);
        for (const path of pages()) {
          const response = await page.goto(`${b.server.url}${path}`);
          expect.soft(response!.status(), path).toBe(path === '/no-such-page' ? 404 : 200);
          expect.soft(await page.evaluate(() => document.compatMode), path).toBe('CSS1Compat');
          const { excess, culprit } = await overflow(page);
          expect.soft(excess, `${path} is ${excess}px too wide (widest: ${culprit})`).toBeLessThanOrEqual(0);
          // Every header cell says whether it heads a column or a row, and no two elements share an id (a
          // label's `for` would point at another form's field).
          expect.soft(await page.locator('th:not([scope])').count(), `${path}: th without scope`).toBe(0);
          if (path === '/options/security' || path === `/manage/${acme.id}/history`)
            await page.screenshot({ path: artifactPath(`zoom-${viewport.width}${path.replaceAll('/', '-')}.png`), fullPage: true });
          const ids = await page.locator('[id]').evaluateAll((els: PageElement[]) => els.map((el) => el.id));
          expect.soft(ids.filter((id, i) => ids.indexOf(id) !== i), `${path}: duplicate ids`).toEqual([]);
        }
        await context.clearCookies();
        await page.goto(`${b.server.url}/login`);
        expect(await page.evaluate(() => document.compatMode)).toBe('CSS1Compat');
        expect((await overflow(page)).excess).toBeLessThanOrEqual(0);
      } finally {
        await context.close();
      }
    });
  }

  it('Tab first reaches "Skip to content", which moves focus past the top bar and sidebar to the page', () =>
    asAda(async (page) => {
      await page.goto(`${b.server.url}/options/alt-logins`);
      await page.keyboard.press('Tab');
      const first = page.locator(':focus');
      await expect(first.textContent()).resolves.toBe('Skip to content');
      expect(await first.isVisible()).toBe(true);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');
    }));

  it('every row button names what it acts on, so a screen reader list of buttons is not "Revoke, Revoke, Revoke"', () =>
    asAda(async (page) => {
      const names = async (path: string) => {
        await page.goto(`${b.server.url}${path}`);
        return page.getByRole('button').evaluateAll((els: PageElement[]) => els.map((el) => (el.getAttribute('aria-label') ?? el.textContent ?? '').trim()));
      };
      const altLogins = await names('/options/alt-logins');
      expect(altLogins).toContain('Revoke Alternate password “Hotel lobby kiosk, Lisbon, third floor”');
      expect(altLogins).toContain('Revoke App password “Thunderbird on the home desktop computer”');
      const personalities = await names('/options/personalities');
      expect(personalities).toContain('Delete personality “Countess of Lovelace (correspondence)”');
      expect(personalities).toContain('Make “Countess of Lovelace (correspondence)” the default personality');
      const members = await names(`/manage/${acme.id}/members`);
      expect(members).toContain('Remove melisande-of-the-long-name from the group');
      expect(members).toContain('Make melisande-of-the-long-name an administrator');
      for (const list of [altLogins, personalities, members]) {
        const bare = list.filter((n) => ['Delete', 'Remove', 'Revoke', 'End', 'Make default', 'Make administrator'].includes(n));
        expect(bare).toEqual([]);
      }
    }));
});
