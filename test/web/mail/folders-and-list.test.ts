import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageRange } from '../../../web/mail/message-list.js';
import { orderFolders, type Folder } from '../../../web/mail/folders.js';
import { fillMailbox, storeClient } from '../../helpers/mailstore.js';
import { csrfIn, text, type WebClient } from '../harness.js';
import { createMailHarness, type MailHarness } from './mail-harness.js';

let h: MailHarness;
let c: WebClient;

beforeAll(async () => {
  h = await createMailHarness();
  await fillMailbox(h.mailbox, { INBOX: 120, Trash: 1, Sent: 0, Projects: 0, Archive: 0 });
  const store = await storeClient(h.mailbox);
  try {
    await store.mailboxCreate(['Projects', '2026']);
    // No Date header: the list shows the arrival time instead.
    await store.append('Projects', 'From: a@example.test\r\nSubject: Undated\r\n\r\nbody\r\n', [], new Date('2024-02-03T04:05:00Z'));
    await store.append('Sent', 'From: me@example.test\r\nTo: Friend <friend@example.test>\r\nSubject: Hello friend\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nhi\r\n', ['\\Seen']);
  } finally {
    await store.logout();
  }
  c = await h.full();
});
afterAll(() => h.close());

describe('Folder list', () => {
  it('puts Inbox, Drafts, Sent, Archive, Junk, Trash first, then the user’s folders nested', () => {
    const f = (path: string, specialUse: Folder['specialUse'] = null, depth = 0): Folder => ({ path, name: path, depth, specialUse, unseen: 0, total: 0, selectable: true });
    const ordered = orderFolders([f('Zoo'), f('Trash', '\\Trash'), f('Work/Deep', null, 1), f('Sent', '\\Sent'), f('INBOX', '\\Inbox'), f('Work'), f('Drafts', '\\Drafts')]);
    expect(ordered.map((x) => x.path)).toEqual(['INBOX', 'Drafts', 'Sent', 'Trash', 'Work', 'Work/Deep', 'Zoo']);
  });

  it('shows the folders with unread counts, special folders first', async () => {
    const html = text(await (await c.get('/mail')).text());
    const inbox = html.indexOf('>Inbox<');
    const sent = html.indexOf('>Sent<');
    const trash = html.indexOf('>Trash<');
    const projects = html.indexOf('>Projects<');
    expect(inbox).toBeGreaterThan(0);
    expect(inbox).toBeLessThan(sent);
    expect(sent).toBeLessThan(trash);
    expect(trash).toBeLessThan(projects);
    expect(html).toContain('aria-label="120 unread"');
    expect(html).toContain('>2026<');
  });

  it('creates a folder', async () => {
    const token = await c.csrf();
    const res = await c.post('/mail/folders', { _csrf: token, name: 'Receipts', parent: '' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail?folder=Receipts&notice=folder-created');
    expect(text(await (await c.get('/mail')).text())).toContain('>Receipts<');
  });

  it('refuses a folder name with a wildcard, in a sentence', async () => {
    const res = await c.post('/mail/folders', { _csrf: await c.csrf(), name: 'bad*name', parent: '' });
    expect(res.status).toBe(400);
    expect(text(await res.text())).toContain('Folder names must be 1 to 200 characters');
  });
});

describe('Message list', () => {
  it('pages by sequence range, newest first', () => {
    expect(pageRange(120, 1)).toEqual({ from: 71, to: 120 });
    expect(pageRange(120, 3)).toEqual({ from: 1, to: 20 });
    expect(pageRange(120, 4)).toBeNull();
    expect(pageRange(10_000, 200)).toEqual({ from: 1, to: 50 });
  });

  it('shows 50 a page with newer/older links and the page number', async () => {
    const first = text(await (await c.get('/mail')).text());
    expect(first).toContain('Page 1 of 3');
    expect(first.match(/name="uid"/g)?.length).toBe(50);
    expect(first.indexOf('Message 120')).toBeLessThan(first.indexOf('Message 71'));
    expect(first).not.toContain('Message 70<');
    expect(first).toContain('href="/mail?folder=INBOX&page=2"');
    const last = text(await (await c.get('/mail?folder=INBOX&page=3')).text());
    expect(last).toContain('Page 3 of 3');
    expect(last.match(/name="uid"/g)?.length).toBe(20);
    expect(last).toContain('Message 1<');
    expect(last).toContain('href="/mail?folder=INBOX&page=2"');
    expect(last).not.toContain('Older');
    // Past the end: the last page, not an error.
    expect(text(await (await c.get('/mail?folder=INBOX&page=999')).text())).toContain('Page 3 of 3');
  });

  it('marks unread messages and shows the arrival date when there is no Date header', async () => {
    const html = text(await (await c.get('/mail?folder=Projects')).text());
    expect(html).toContain('Undated');
    expect(html).toContain('2024-02-03 04:05 UTC');
    expect(html).toContain('title="Unread"');
  });

  it('shows To instead of From in Sent', async () => {
    const html = text(await (await c.get('/mail?folder=Sent')).text());
    expect(html).toContain('<th scope="col">To</th>');
    expect(html).toContain('Friend <friend@example.test>');
    expect(html).not.toContain('me@example.test');
  });

  it('sends a folder deleted elsewhere back to the Inbox with a notice', async () => {
    const res = await c.get('/mail?folder=No%20such%20folder');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail?notice=folder-gone');
    expect(text(await (await c.get('/mail?notice=folder-gone')).text())).toContain('That folder no longer exists');
  });

  it('marks every mail page no-store', async () => {
    expect((await c.get('/mail')).headers.get('cache-control')).toBe('no-store');
  });

  it('keeps working with a token from the page', async () => {
    expect(csrfIn(await (await c.get('/mail')).text())).toBeTruthy();
  });
});
