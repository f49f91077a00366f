/**
 * Issue 13's compose journey in headless Chromium with JavaScript off: log in, "Write a message", fill the
 * form through its labels, attach a file, Send — the message (with the file) is in the recipient's INBOX at
 * the real Dovecot (through submitMessage and the dev MTA) and in the sender's Sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { startDevMta, type DevMta } from '../../../src/upstream/dev-mta.js';
import { createWebApp } from '../../../web/app.js';
import { createStorePool, type StorePool } from '../../../web/mail/store-pool.js';
import { launchBrowser, serveOnLoopback, type LaunchedBrowser, type RunningServer } from '../../helpers/browser.js';
import { storeClient } from '../../helpers/mailstore.js';
import { createWebHarness, type WebHarness } from '../harness.js';

let h: WebHarness;
let mta: DevMta;
let pool: StorePool;
let server: RunningServer;
let chrome: LaunchedBrowser;
const tag = `${process.pid}-${Date.now()}`;
const ann = { user: `ann-${tag}`, pass: 'ann main password', email: `ann-${tag}@example.test` };
const ben = { user: `ben-${tag}`, pass: 'ben main password', email: `ben-${tag}@example.test` };

async function sources(mailbox: string, folder: string): Promise<string[]> {
  const c = await storeClient(mailbox);
  try {
    const lock = await c.getMailboxLock(folder, { readOnly: true });
    try {
      const out: string[] = [];
      if (c.mailbox && c.mailbox.exists) for await (const m of c.fetch('1:*', { source: true })) out.push(m.source!.toString());
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

beforeAll(async () => {
  h = await createWebHarness();
  await createUser(h.ctx, { username: ann.user, password: ann.pass, email: ann.email });
  await createUser(h.ctx, { username: ben.user, password: ben.pass, email: ben.email });
  mta = await startDevMta(h.ctx);
  h.ctx.devMta = { host: mta.host, port: mta.port };
  pool = createStorePool(h.ctx);
  server = await serveOnLoopback((origin) => createWebApp({ ...h.ctx, config: { ...h.ctx.config, PUBLIC_URL: origin } }, { mailStore: pool }).fetch);
  chrome = await launchBrowser();
});
afterAll(async () => {
  await chrome?.close();
  await server?.close();
  await pool?.closeAll();
  await mta?.close();
  await h?.close();
});

describe('Writing mail in a real browser', () => {
  it('composes a message with an attachment that arrives in the recipient’s INBOX and in Sent', async () => {
    const context = await chrome.browser.newContext({ viewport: { width: 1024, height: 768 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Username').fill(ann.user);
      await page.getByLabel('Password or code').fill(ann.pass);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: 'Write a message' }).click();
      expect(await page.getByLabel('From').inputValue()).toBe(ann.email.toLowerCase());
      await page.getByLabel('To').fill(ben.email);
      await page.getByLabel('Subject').fill(`Report ${tag}`);
      await page.getByLabel('Message').fill('The report is attached.');
      await page.getByLabel('Attachments').setInputFiles({ name: 'report.txt', mimeType: 'text/plain', buffer: Buffer.from('quarterly numbers\n') });
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByText('Your message was sent.').count()).toBe(1);
      const arrived = (await sources(ben.user, 'INBOX')).find((s) => s.includes(`Subject: Report ${tag}`));
      expect(arrived).toContain('filename=report.txt');
      expect(arrived).toContain(Buffer.from('quarterly numbers\n').toString('base64'));
      expect((await sources(ann.user, 'Sent')).some((s) => s.includes(`Subject: Report ${tag}`))).toBe(true);
    } finally {
      await context.close();
    }
  });
  it('forwards a message as attachment: it arrives whole as message/rfc822 and the original is marked $Forwarded', async () => {
    const store = await storeClient(ann.user);
    try {
      await store.append('INBOX', `From: Carol <carol@example.test>\r\nTo: <${ann.email}>\r\nSubject: Itinerary ${tag}\r\nMessage-ID: <itin-${tag}@example.test>\r\n\r\nFlight at nine.\r\n`);
    } finally {
      await store.logout();
    }
    const context = await chrome.browser.newContext({ viewport: { width: 1024, height: 768 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Username').fill(ann.user);
      await page.getByLabel('Password or code').fill(ann.pass);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: `Itinerary ${tag}` }).click();
      await page.getByRole('link', { name: 'Forward as attachment' }).click();
      expect(await page.getByLabel('Subject').inputValue()).toBe(`Fwd: Itinerary ${tag}`);
      await expect.poll(() => page.getByText('The original message is attached').count()).toBe(1);
      await page.getByLabel('To').fill(ben.email);
      await page.getByLabel('Message').fill('Forwarding the itinerary.');
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.getByText('Your message was sent.').count()).toBe(1);
      const arrived = (await sources(ben.user, 'INBOX')).find((s) => s.includes(`Subject: Fwd: Itinerary ${tag}`));
      expect(arrived).toMatch(/Content-Type: message\/rfc822/i);
      expect(arrived).toContain(`Message-ID: <itin-${tag}@example.test>`);
      expect(arrived).toContain('Flight at nine.');
      const c = await storeClient(ann.user);
      try {
        const lock = await c.getMailboxLock('INBOX', { readOnly: true });
        try {
          const uids = (await c.search({ header: { 'message-id': `<itin-${tag}@example.test>` } }, { uid: true })) || [];
          const m = await c.fetchOne(String(uids[0]), { flags: true }, { uid: true });
          expect(m && [...(m.flags ?? [])]).toContain('$Forwarded');
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }
    } finally {
      await context.close();
    }
  });
});
