/**
 * What every real-browser journey needs: the fake Twilio API, a web harness wired to it, the app served on
 * 127.0.0.1 with PUBLIC_URL set to its real origin, and one headless Chromium. Each test opens its own
 * kiosk (a fresh browser context: its own cookies, JavaScript off as on a locked-down kiosk).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { createWebApp } from '../../web/app.js';
import { launchBrowser, serveOnLoopback, type LaunchedBrowser, type RunningServer } from '../helpers/browser.js';
import { fakeTwilioEnv, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { createWebHarness, type WebHarness } from './harness.js';

export interface BrowserHarness {
  fake: FakeTwilio;
  h: WebHarness;
  server: RunningServer;
  chrome: LaunchedBrowser;
  /** A fresh browser context and page, like a new person at a kiosk. */
  kiosk(): Promise<{ context: BrowserContext; page: Page }>;
  /** Fills and submits the login form as a person would. */
  logIn(page: Page, username: string, secret: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts everything in order; if a step fails, what already started is closed before the error surfaces. */
export async function startBrowserHarness(): Promise<BrowserHarness> {
  const started: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const part of started.reverse()) await part.close();
  };
  try {
    const fake = await startFakeTwilio();
    started.push(fake);
    const h = await createWebHarness(fakeTwilioEnv(fake));
    started.push(h);
    const server = await serveOnLoopback((origin) => createWebApp({ ...h.ctx, config: { ...h.ctx.config, PUBLIC_URL: origin } }).fetch);
    started.push(server);
    const chrome = await launchBrowser();
    started.push(chrome);
    return {
      fake,
      h,
      server,
      chrome,
      async kiosk() {
        const context = await chrome.browser.newContext({ viewport: { width: 1024, height: 768 }, javaScriptEnabled: false });
        return { context, page: await context.newPage() };
      },
      async logIn(page, username, secret) {
        await page.goto(`${server.url}/login`);
        await page.getByLabel('Username').fill(username);
        await page.getByLabel('Password or code').fill(secret);
        await page.getByRole('button', { name: 'Log in' }).click();
      },
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
