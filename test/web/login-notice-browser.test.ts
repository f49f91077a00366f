/**
 * "This wasn't me", in a real browser (Debian Chromium, JavaScript off): an alternate password opens an
 * IMAP session through the gateway; its notice arrives in the owner's INBOX (dev MTA, real Dovecot); the
 * owner opens the notice's revoke link, confirms on the page, and the login is revoked — the open IMAP
 * connection gets `* BYE`, a STORE + EXPUNGE sent after the click never reaches the store, and the store
 * is unchanged.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin, findAltLogin } from '../../src/accounts/alt-logins.js';
import { createUser } from '../../src/accounts/users.js';
import { settleLoginNotices } from '../../src/notices/index.js';
import { startDevMta, type DevMta } from '../../src/upstream/dev-mta.js';
import { createWebApp } from '../../web/app.js';
import { launchBrowser, serveOnLoopback, type LaunchedBrowser, type RunningServer } from '../helpers/browser.js';
import { fillMailbox, snapshotMailbox, storeClient } from '../helpers/mailstore.js';
import { RawClient, startLiveGateway, type LiveGateway } from '../gateway/imap/live-gateway.js';

let live: LiveGateway;
let mta: DevMta;
let server: RunningServer;
let chrome: LaunchedBrowser;

beforeAll(async () => {
  live = await startLiveGateway();
  mta = await startDevMta(live.ctx);
  live.ctx.devMta = { host: mta.host, port: mta.port };
  server = await serveOnLoopback((origin) => createWebApp({ ...live.ctx, config: { ...live.ctx.config, PUBLIC_URL: origin } }).fetch);
  chrome = await launchBrowser();
});
afterAll(async () => {
  await chrome?.close();
  await server?.close();
  await settleLoginNotices(live.ctx);
  await mta?.close();
  await live?.close();
});

/** The text part of the newest message in `mailbox`'s INBOX once there are `count` (bounded wait). */
async function newestMail(mailbox: string, count: number): Promise<string> {
  await settleLoginNotices(live.ctx);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await storeClient(mailbox);
    try {
      const status = await c.status('INBOX', { messages: true });
      if (status && (status.messages ?? 0) >= count) {
        const lock = await c.getMailboxLock('INBOX', { readOnly: true });
        try {
          const m = await c.fetchOne('*', { bodyParts: ['1'] });
          return m ? (m.bodyParts?.get('1')?.toString() ?? '') : '';
        } finally {
          lock.release();
        }
      }
    } finally {
      await c.logout();
    }
    if (Date.now() > deadline) throw new Error('no notice arrived');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a login notice's \"This wasn't me\" in Chromium", () => {
  it('revokes the login; its open IMAP session gets BYE and the store is unchanged', async () => {
    const username = `nbr${crypto.randomBytes(4).toString('hex')}`;
    const user = await createUser(live.ctx, { username, password: `main-${crypto.randomBytes(6).toString('hex')}`, email: `${username}@example.test` });
    await fillMailbox(username, { INBOX: 2 });
    const login = await createUserChosenLogin(live.ctx, { userId: user.id, kind: 'password', secret: 'borrowed password 1', label: 'Borrowed laptop', services: ['imap'] });
    const imap = await RawClient.connect(live.port);
    expect(await imap.login(username, 'borrowed password 1')).toMatch(/^L1 OK/);
    expect(await imap.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK/);

    const body = (await newestMail(username, 3)).replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    expect(body).toContain('Login: Borrowed laptop');
    expect(body).toContain('Client address: 127.0.0.1');
    const revokeUrl = new URL(/https?:\/\/\S+\/login-notice\?t=\S+\.revoke\.\S+/.exec(body)![0]);
    const before = await snapshotMailbox(username);

    const context = await chrome.browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}${revokeUrl.pathname}${revokeUrl.search}`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Revoke this login?');
      await expect(page.locator('table').textContent()).resolves.toContain('Borrowed laptop');
      // Opening the page changed nothing.
      expect((await findAltLogin(live.ctx, login.id))!.revokedAt).toBeNull();
      expect(await imap.command('n1', 'NOOP')).toMatch(/^n1 OK/);

      await page.getByRole('button', { name: 'Revoke this login and end its sessions' }).click();
      await expect(page.locator('h1').textContent()).resolves.toBe('Login revoked');
      // Sent the instant the confirmation returned: it must never reach the store.
      imap.send('d1 STORE 1:* +FLAGS (\\Deleted)\r\nd2 EXPUNGE\r\n');
      const bye = await imap.waitFor(/^\* BYE [^\r]*\r\n/, 3000);
      expect(bye[0]).toMatch(/revoked/);
      await imap.waitClosed(3000);
      expect(imap.text).not.toMatch(/^d[12] OK/m);
      expect(await snapshotMailbox(username)).toEqual(before);
      expect((await findAltLogin(live.ctx, login.id))!.revokedAt).not.toBeNull();

      // The link is used up, and the login opens nothing any more.
      await page.goto(`${server.url}${revokeUrl.pathname}${revokeUrl.search}`);
      await expect(page.locator('.notice').textContent()).resolves.toContain('This notice was already answered');
      const again = await RawClient.connect(live.port);
      expect(await again.login(username, 'borrowed password 1')).toMatch(/^L1 NO/);
      again.close();
    } finally {
      await context.close();
    }
  });
});
