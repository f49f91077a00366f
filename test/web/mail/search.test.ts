import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeClient } from '../../helpers/mailstore.js';
import { csrfIn, text, type WebClient } from '../harness.js';
import { createMailHarness, type MailHarness } from './mail-harness.js';

let h: MailHarness;
let c: WebClient;

beforeAll(async () => {
  h = await createMailHarness();
  const store = await storeClient(h.mailbox);
  try {
    await store.mailboxCreate('Work');
    for (let i = 1; i <= 60; i++) await store.append('INBOX', `From: alice@example.test\r\nSubject: Invoice ${i}\r\n\r\nplease pay ${i}\r\n`);
    await store.append('INBOX', 'From: bob@example.test\r\nSubject: Lunch\r\n\r\nsecret-word-xyzzy inside\r\n', ['\\Flagged', '\\Seen']);
    await store.append('Work', 'From: carol@example.test\r\nSubject: Invoice from Work\r\n\r\nwork body\r\n', [], new Date('2020-05-01T00:00:00Z'));
  } finally {
    await store.logout();
  }
  c = await h.full();
});
afterAll(() => h.close());

async function search(form: Record<string, string>): Promise<Response> {
  const res = await c.post('/mail/search', { _csrf: await c.csrf('/mail/search'), ...form });
  return res;
}

describe('Search', () => {
  it('keeps the terms out of the URL: the results page is named by an opaque id', async () => {
    const res = await search({ subject: 'Invoice', folder: '' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/mail\/search\/results\?q=[\w-]{22}$/);
    expect(location).not.toContain('Invoice');
    const html = text(await (await c.get(location)).text());
    expect(html).toContain('61 messages found');
    expect(html).toContain('Page 1 of 2');
    const page2 = text(await (await c.get(`${location}&page=2`)).text());
    expect(page2).toContain('Page 2 of 2');
    expect(page2).toContain('Invoice from Work');
  });

  it('searches one folder, by body, flagged and date', async () => {
    const body = text(await (await c.get((await search({ body: 'secret-word-xyzzy', folder: 'INBOX' })).headers.get('location')!)).text());
    expect(body).toContain('1 message found');
    expect(body).toContain('Lunch');
    const flagged = text(await (await c.get((await search({ flagged: '1', folder: 'INBOX' })).headers.get('location')!)).text());
    expect(flagged).toContain('1 message found');
    const old = text(await (await c.get((await search({ before: '2021-01-01', folder: '' })).headers.get('location')!)).text());
    expect(old).toContain('1 message found');
    expect(old).toContain('Invoice from Work');
    const fromBob = text(await (await c.get((await search({ from: 'bob@', unread: '1', folder: '' })).headers.get('location')!)).text());
    expect(fromBob).toContain('0 messages found');
  });

  it('refuses an empty search or a bad date in one sentence, keeping what was typed', async () => {
    const res = await search({ folder: '' });
    expect(res.status).toBe(400);
    expect(text(await res.text())).toContain('Enter at least one thing to search for.');
    const bad = await search({ since: '01/02/2020', subject: 'kept words' });
    expect(bad.status).toBe(400);
    const html = text(await bad.text());
    expect(html).toContain('Dates must be written as YYYY-MM-DD.');
    expect(html).toContain('value="kept words"');
  });

  it('searches again when the results page is shown again: mail that arrived since is in it', async () => {
    const location = (await search({ subject: 'Arrived-later', folder: 'INBOX' })).headers.get('location')!;
    // The first showing is the search the post started on the store while the browser followed the redirect.
    expect(text(await (await c.get(location)).text())).toContain('0 messages found');
    const store = await storeClient(h.mailbox);
    try {
      await store.append('INBOX', 'From: dan@example.test\r\nSubject: Arrived-later\r\n\r\nnew\r\n');
    } finally {
      await store.logout();
    }
    const again = text(await (await c.get(location)).text());
    expect(again).toContain('1 message found');
    expect(again).toContain('Arrived-later');
  });

  it('does not show one session’s search to another', async () => {
    const location = (await search({ subject: 'Invoice', folder: '' })).headers.get('location')!;
    const other = await h.full();
    const res = await other.get(location);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail/search');
    expect(csrfIn(await (await other.get('/mail/search')).text())).toBeTruthy();
  });
  it('gives results from all folders the list’s controls, acting on each message in its own folder', async () => {
    const location = (await search({ subject: 'Invoice', folder: '' })).headers.get('location')!;
    // Page 2 holds the last Inbox hits and the one in Work.
    const html = await (await c.get(`${location}&page=2`)).text();
    expect(html).toContain('name="scope" value="all"');
    for (const control of ['read', 'unread', 'flag', 'archive', 'move', 'copy', 'delete']) expect(html).toContain(`value="${control}"`);
    const work = /name="msg" value="(\d+:Work)"/.exec(html)![1]!;
    const inbox = /name="msg" value="(\d+:INBOX)"/.exec(html)![1]!;
    const token = csrfIn(html);
    const res = await c.post('/mail/actions', { _csrf: token, scope: 'all', action: 'flag', msg: [work, inbox], back: location });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${location}&notice=flag`);
    const store = await storeClient(h.mailbox);
    try {
      for (const [folder, sel] of [['Work', work], ['INBOX', inbox]] as const) {
        const lock = await store.getMailboxLock(folder, { readOnly: true });
        try {
          const m = await store.fetchOne(sel.split(':')[0]!, { flags: true }, { uid: true });
          expect(m && [...(m.flags ?? [])]).toContain('\\Flagged');
        } finally {
          lock.release();
        }
      }
    } finally {
      await store.logout();
    }
  });
});
