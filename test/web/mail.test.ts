import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { listAuditEvents } from '../../src/audit.js';
import { fillMailbox, snapshotMailbox } from '../helpers/mailstore.js';
import { RESTRICTED_BANNER } from '../../web/views/layout.js';
import { addUser, createWebHarness, csrfIn, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let userId: number;
const PASSWORD = 'main password 1';
const mailbox = `webmail-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  h = await createWebHarness();
  userId = (await addUser(h, mailbox, PASSWORD)).id;
  await createUserChosenLogin(h.ctx, { userId, kind: 'password', secret: 'kiosk password 1', restricted: true, label: 'kiosk' });
  await fillMailbox(mailbox, { INBOX: 3 });
});
afterAll(() => h.close());

describe('Mail', () => {
  it('sends visitors to the login page', async () => {
    const res = await new WebClient(h).get('/mail');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('lists the INBOX read through the upstream store, newest first', async () => {
    const client = new WebClient(h);
    await client.login(mailbox, PASSWORD);
    const html = text(await (await client.get('/mail')).text());
    expect(html).toContain('3 messages');
    expect(html.indexOf('Message 3')).toBeLessThan(html.indexOf('Message 1'));
    expect(html).toContain('sender2@example.test');
    expect(html).not.toContain(RESTRICTED_BANNER);
  });

  it('shows the restricted banner and no delete or move control in a restricted session, and refuses a forged delete with 403', async () => {
    const client = new WebClient(h);
    await client.login(mailbox, 'kiosk password 1');
    const html = text(await (await client.get('/mail')).text());
    expect(html).toContain(RESTRICTED_BANNER);
    expect(html).toContain('with an alternate password (“kiosk”)');
    expect(html).not.toContain('value="delete"');
    expect(html).not.toContain('value="move"');
    const before = await snapshotMailbox(mailbox);
    const uid = /name="uid" value="(\d+)"/.exec(html)![1]!;
    const res = await client.post('/mail/actions', { _csrf: csrfIn(html), folder: 'INBOX', uid, action: 'delete' });
    expect(res.status).toBe(403);
    expect(await snapshotMailbox(mailbox)).toEqual(before);
    const refused = await listAuditEvents(h.ctx.db, { userId, events: ['web.request-refused'] });
    expect(refused.some((e) => e.details.reason === 'restricted.move')).toBe(true);
  });

  it('moves a message to Trash in an unrestricted session, with Undo', async () => {
    const client = new WebClient(h);
    await client.login(mailbox, PASSWORD);
    const html = await (await client.get('/mail')).text();
    const uid = /name="uid" value="(\d+)"/.exec(html)![1]!;
    const res = await client.post('/mail/actions', { _csrf: csrfIn(html), folder: 'INBOX', uid, action: 'delete' });
    expect(res.headers.get('location')).toMatch(/^\/mail\?folder=INBOX&notice=trashed&undo=\d+&trash=Trash$/);
    const after = text(await (await client.get(res.headers.get('location')!)).text());
    expect(after).toContain('2 messages');
    expect(after).toContain('Moved to Trash.');
    expect(after).toContain('value="undo"');
    const undo = await client.post('/mail/actions', { _csrf: csrfIn(after), folder: 'Trash', target: 'INBOX', uid: /name="uid" value="(\d+)"\/><button type="submit" name="action" value="undo"/.exec(after)![1]!, action: 'undo' });
    expect(undo.status).toBe(303);
    expect(text(await (await client.get('/mail')).text())).toContain('3 messages');
  });
});
