/**
 * Search in all folders, in headless Chromium with JavaScript off: the results (from several folders) carry
 * the list's select-and-act controls — mark read, flag, delete (to Trash, after a confirmation) act on each
 * message in its own folder — and a restricted session's results show no delete or move control while its
 * forged posts are refused and change nothing at the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { snapshotMailbox, storeClient } from '../../helpers/mailstore.js';
import { startBrowserHarness, type BrowserHarness } from '../browser-harness.js';
import { addUser } from '../harness.js';

let b: BrowserHarness;
const mailbox = `searchbrowser-${process.pid}-${Date.now()}`;
const PASSWORD = 'main password 1';
const KIOSK = 'kiosk password 1';

beforeAll(async () => {
  b = await startBrowserHarness();
  const user = await addUser(b.h, mailbox, PASSWORD);
  await createUserChosenLogin(b.h.ctx, { userId: user.id, kind: 'password', secret: KIOSK, restricted: true, label: 'kiosk' });
  const store = await storeClient(mailbox);
  try {
    await store.mailboxCreate('Projects');
    await store.append('INBOX', 'From: a@example.test\r\nSubject: Quarterly budget (inbox)\r\n\r\nnumbers\r\n');
    await store.append('Projects', 'From: b@example.test\r\nSubject: Quarterly budget (projects)\r\n\r\nmore numbers\r\n');
    await store.append('INBOX', 'From: c@example.test\r\nSubject: Lunch\r\n\r\nnot this one\r\n');
  } finally {
    await store.logout();
  }
});
afterAll(() => b?.close());

/** Subject and flags of every message in a folder, read straight from the store. */
async function flagsOf(folder: string): Promise<Array<{ subject: string; flags: string[] }>> {
  const c = await storeClient(mailbox);
  try {
    const lock = await c.getMailboxLock(folder, { readOnly: true });
    try {
      const out: Array<{ subject: string; flags: string[] }> = [];
      if (c.mailbox && c.mailbox.exists) for await (const m of c.fetch('1:*', { envelope: true, flags: true })) out.push({ subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])] });
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

describe('Search in all folders in a real browser', () => {
  it('acts on the selected results, each in its own folder: mark read, flag, then delete to Trash after a confirmation', async () => {
    const { context, page } = await b.kiosk();
    try {
      await b.logIn(page, mailbox, PASSWORD);
      await page.getByRole('link', { name: 'Search mail' }).click();
      await page.getByLabel('Where').selectOption({ label: 'All folders' });
      await page.getByLabel('Subject').fill('Quarterly budget');
      await page.getByRole('button', { name: 'Search' }).click();
      await expect.poll(() => page.getByText('2 messages found').count()).toBe(1);
      expect(page.url()).not.toContain('Quarterly');

      await page.getByLabel('Select “Quarterly budget (inbox)”').check();
      await page.getByLabel('Select “Quarterly budget (projects)”').check();
      await page.getByRole('button', { name: 'Mark read' }).click();
      await expect.poll(() => page.getByText('Marked as read.').count()).toBe(1);
      expect((await flagsOf('INBOX')).find((m) => m.subject.includes('(inbox)'))!.flags).toContain('\\Seen');
      expect((await flagsOf('Projects')).find((m) => m.subject.includes('(projects)'))!.flags).toContain('\\Seen');
      expect((await flagsOf('INBOX')).find((m) => m.subject === 'Lunch')!.flags).not.toContain('\\Seen');

      await page.getByLabel('Select “Quarterly budget (projects)”').check();
      await page.getByRole('button', { name: 'Flag', exact: true }).click();
      await expect.poll(() => page.getByText('Flagged.').count()).toBe(1);
      expect((await flagsOf('Projects'))[0]!.flags).toContain('\\Flagged');

      await page.getByLabel('Select “Quarterly budget (inbox)”').check();
      await page.getByLabel('Select “Quarterly budget (projects)”').check();
      await page.getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => page.getByText('Move 2 messages to Trash?').count()).toBe(1);
      await page.getByRole('button', { name: 'Move to Trash' }).click();
      await expect.poll(() => page.getByText('Moved to Trash.').count()).toBe(1);
      expect(await flagsOf('Projects')).toHaveLength(0);
      expect((await flagsOf('INBOX')).map((m) => m.subject)).toEqual(['Lunch']);
      expect((await flagsOf('Trash')).map((m) => m.subject).sort()).toEqual(['Quarterly budget (inbox)', 'Quarterly budget (projects)']);
    } finally {
      await context.close();
    }
  });

  it('gives a restricted session’s results no delete or move control, and refuses its forged posts with the store unchanged', async () => {
    const { context, page } = await b.kiosk();
    try {
      await b.logIn(page, mailbox, KIOSK);
      await page.goto(`${b.server.url}/mail/search`);
      await page.getByLabel('Where').selectOption({ label: 'All folders' });
      await page.getByLabel('Subject').fill('budget');
      await page.getByRole('button', { name: 'Search' }).click();
      await expect.poll(() => page.getByText('2 messages found').count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Mark read' }).count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Copy' }).count()).toBe(1);
      for (const gone of ['Delete', 'Delete for good', 'Move', 'Archive']) expect(await page.getByRole('button', { name: gone, exact: true }).count()).toBe(0);

      const before = await snapshotMailbox(mailbox);
      const token = await page.locator('input[name="_csrf"]').first().inputValue();
      const inbox = before.messages.INBOX![0]!.uid;
      const forged: Array<Record<string, string>> = [
        { scope: 'all', action: 'delete', msg: `${inbox}:INBOX`, confirm: '1' },
        { scope: 'all', action: 'delete', msg: '1:Trash', confirm: '1' },
        { scope: 'all', action: 'move', msg: `${inbox}:INBOX`, target: 'Projects' },
        { scope: 'all', action: 'archive', msg: `${inbox}:INBOX` },
      ];
      for (const form of forged) {
        const res = await page.request.post(`${b.server.url}/mail/actions`, { form: { _csrf: token, ...form }, headers: { origin: b.server.url }, maxRedirects: 0 });
        expect(res.status()).toBe(403);
      }
      expect(await snapshotMailbox(mailbox)).toEqual(before);
    } finally {
      await context.close();
    }
  });
});
