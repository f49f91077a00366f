/**
 * The webmail in a real browser (Debian Chromium): hostile messages run no script and reach no "remote"
 * server until Show images, even with JavaScript on; an attachment downloads byte-identical; paging; a
 * restricted session has no delete/move controls and its forged posts change nothing at the store.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { HOSTILE_HTML } from '../fixtures/mail/hostile-messages.js';
import { fillMailbox, snapshotMailbox, storeClient } from '../helpers/mailstore.js';
import { startBrowserHarness, type BrowserHarness } from './browser-harness.js';
import { addUser } from './harness.js';

let b: BrowserHarness;
let remote: { url: string; hits: string[]; server: http.Server };
const mailbox = `browsermail-${process.pid}-${Date.now()}`;
const PASSWORD = 'main password 1';
const KIOSK = 'kiosk password 1';
const uids = new Map<string, number>();
let attachmentUid = 0;
const attachment = crypto.randomBytes(200_000);

beforeAll(async () => {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  remote = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
  b = await startBrowserHarness();
  const user = await addUser(b.h, mailbox, PASSWORD);
  await createUserChosenLogin(b.h.ctx, { userId: user.id, kind: 'password', secret: KIOSK, restricted: true, label: 'kiosk' });
  await fillMailbox(mailbox, { INBOX: 55 });
  const store = await storeClient(mailbox);
  try {
    const appendUid = async (raw: string) => {
      const res = await store.append('INBOX', raw);
      if (!res || !res.uid) throw new Error('append gave no UID');
      return res.uid;
    };
    for (const m of HOSTILE_HTML) uids.set(m.name, await appendUid(m.raw(remote.url)));
    const raw =
      'From: a@example.test\r\nSubject: With attachment\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
      `--XX\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--XX--\r\n`;
    attachmentUid = await appendUid(raw);
  } finally {
    await store.logout();
  }
});
afterAll(async () => {
  await b?.close();
  await new Promise((resolve) => remote?.server.close(resolve));
});

describe('webmail in a real browser', () => {
  it('runs no script and loads nothing remote from hostile messages, until Show images', async () => {
    // JavaScript on: the point is that the message's own script cannot run even where scripts could.
    const context = await b.chrome.browser.newContext({ viewport: { width: 1024, height: 768 }, javaScriptEnabled: true });
    const page = await context.newPage();
    const ran: string[] = [];
    page.on('dialog', (d) => {
      ran.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('pageerror', (e) => ran.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // The browser's own notes (CSP refusals, a missing favicon, agent clusters) are not a script running.
      if (!/Content Security Policy|Refused to|Blocked|Failed to load resource|Origin-Agent-Cluster/i.test(m.text())) ran.push(`console: ${m.text()}`);
    });
    try {
      await b.logIn(page, mailbox, PASSWORD);
      for (const [name, uid] of uids) {
        await page.goto(`${b.server.url}/mail/message?folder=INBOX&uid=${uid}`);
        await page.waitForLoadState('load');
        const frame = page.frameLocator('iframe.message-html');
        if (name !== 'encoded-word subject with markup') await expect.poll(() => frame.locator('body').textContent()).toContain('visible text');
      }
      await page.waitForTimeout(300);
      expect(ran).toEqual([]);
      expect(remote.hits).toEqual([]);
      await page.goto(`${b.server.url}/mail/message?folder=INBOX&uid=${uids.get('remote image')}`);
      await page.getByRole('link', { name: 'Show images' }).click();
      await expect.poll(() => remote.hits).toContain('/pixel.png');
      expect(ran).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('downloads an attachment byte-identical, and pages through the folder', async () => {
    const { context, page } = await b.kiosk();
    try {
      await b.logIn(page, mailbox, PASSWORD);
      await page.goto(`${b.server.url}/mail/message?folder=INBOX&uid=${attachmentUid}`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'data.bin' }).click()]);
      expect(download.suggestedFilename()).toBe('data.bin');
      expect(fs.readFileSync((await download.path())!).equals(attachment)).toBe(true);
      await page.goto(`${b.server.url}/mail`);
      await expect(page.locator('.pager').first().textContent()).resolves.toContain('Page 1 of 2');
      await page.getByRole('link', { name: 'Older →' }).click();
      await expect(page.locator('.pager').first().textContent()).resolves.toContain('Page 2 of 2');
      await expect(page.locator('table.messages').textContent()).resolves.toContain('Message 1');
      // Legible at 1024×768 without horizontal scrolling.
      expect(await page.locator('html').evaluate((el) => el.scrollWidth)).toBeLessThanOrEqual(1024);
    } finally {
      await context.close();
    }
  });

  it('shows a restricted session no delete or move control, and its forged posts change nothing', async () => {
    const { context, page } = await b.kiosk();
    try {
      await b.logIn(page, mailbox, KIOSK);
      await page.goto(`${b.server.url}/mail`);
      expect(await page.locator('button[value="delete"], button[value="move"], button[value="archive"]').count()).toBe(0);
      const token = await page.locator('input[name="_csrf"]').first().getAttribute('value');
      const before = await snapshotMailbox(mailbox);
      const forged: Record<string, string>[] = [
        { action: 'delete', uid: '1', folder: 'INBOX' },
        { action: 'move', uid: '1', folder: 'INBOX', target: 'Trash' },
      ];
      for (const form of forged) {
        const res = await page.request.post(`${b.server.url}/mail/actions`, { form: { _csrf: token!, ...form }, headers: { origin: b.server.url } });
        expect(res.status()).toBe(403);
      }
      expect(await snapshotMailbox(mailbox)).toEqual(before);
    } finally {
      await context.close();
    }
  });
});
