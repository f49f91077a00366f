import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { fillMailbox, snapshotMailbox, storeClient } from '../../helpers/mailstore.js';
import { csrfIn, text, type WebClient } from '../harness.js';
import { createMailHarness, type MailHarness } from './mail-harness.js';

let h: MailHarness;
let kiosk: WebClient;
let html: string;

beforeAll(async () => {
  h = await createMailHarness({ RESTRICTED_SESSION_BYTES: '1500' });
  await fillMailbox(h.mailbox, { INBOX: 3, Trash: 2, Archive: 0, Keep: 0 });
  const store = await storeClient(h.mailbox);
  try {
    await store.append('Keep', `From: a@example.test\r\nSubject: Big\r\n\r\n${'x'.repeat(3000)}\r\n`);
  } finally {
    await store.logout();
  }
  kiosk = await h.restricted();
  html = await (await kiosk.get('/mail')).text();
});
afterAll(() => h.close());

describe('A restricted session in the webmail', () => {
  it('shows no delete, move, archive or Empty Trash control, but keeps read, flag and copy', async () => {
    expect(html).not.toMatch(/value="(delete|move|archive)"/);
    const trash = await (await kiosk.get('/mail?folder=Trash')).text();
    expect(trash).not.toContain('/mail/empty-trash');
    expect(trash).not.toContain('value="delete"');
    for (const kept of ['read', 'unread', 'flag', 'unflag', 'copy']) expect(html).toContain(`value="${kept}"`);
  });

  const forged: Array<[string, string, Record<string, string>, string]> = [
    ['move to Trash', '/mail/actions', { folder: 'INBOX', uid: '1', action: 'delete' }, 'restricted.move'],
    ['delete for good in Trash', '/mail/actions', { folder: 'Trash', uid: '1', action: 'delete', confirm: '1' }, 'restricted.expunge'],
    ['move', '/mail/actions', { folder: 'INBOX', uid: '1', action: 'move', target: 'Keep' }, 'restricted.move'],
    ['archive', '/mail/actions', { folder: 'INBOX', uid: '2', action: 'archive' }, 'restricted.move'],
    ['undo (a move out of Trash)', '/mail/actions', { folder: 'Trash', uid: '1', action: 'undo', target: 'INBOX' }, 'restricted.move'],
    ['Empty Trash', '/mail/empty-trash', { confirm: '1' }, 'restricted.expunge'],
    ['delete from all-folder search results', '/mail/actions', { scope: 'all', msg: '1:INBOX', action: 'delete', confirm: '1' }, 'restricted.move'],
    ['delete for good from all-folder search results', '/mail/actions', { scope: 'all', msg: '1:Trash', action: 'delete', confirm: '1' }, 'restricted.expunge'],
    ['move from all-folder search results', '/mail/actions', { scope: 'all', msg: '2:INBOX', action: 'move', target: 'Keep' }, 'restricted.move'],
    ['archive from all-folder search results', '/mail/actions', { scope: 'all', msg: '2:INBOX', action: 'archive' }, 'restricted.move'],
  ];
  for (const [name, path, form, reason] of forged) {
    it(`refuses a forged “${name}” with 403, audited, and the store is unchanged`, async () => {
      const before = await snapshotMailbox(h.mailbox);
      const res = await kiosk.post(path, { _csrf: csrfIn(html), ...form });
      expect(res.status).toBe(403);
      expect(text(await res.text())).toMatch(/disabled in this session/);
      expect(await snapshotMailbox(h.mailbox)).toEqual(before);
      const refused = await listAuditEvents(h.ctx.db, { userId: h.userId, events: ['web.request-refused'] });
      expect(refused.some((e) => e.details.reason === reason && e.details.path === path)).toBe(true);
    });
  }

  it('may still mark read, flag and copy', async () => {
    const token = csrfIn(html);
    expect((await kiosk.post('/mail/actions', { _csrf: token, folder: 'INBOX', uid: '3', action: 'read' })).status).toBe(303);
    expect((await kiosk.post('/mail/actions', { _csrf: token, folder: 'INBOX', uid: '3', action: 'flag' })).status).toBe(303);
    expect((await kiosk.post('/mail/actions', { _csrf: token, folder: 'INBOX', uid: '3', action: 'copy', target: 'Keep' })).status).toBe(303);
    const after = await snapshotMailbox(h.mailbox);
    expect(after.messages.INBOX!.find((m) => m.uid === 3)!.flags).toEqual(['\\Flagged', '\\Seen']);
    expect(after.messages.Keep).toHaveLength(2);
    expect(after.messages.INBOX).toHaveLength(3);
  });

  it('spends the shared restricted byte budget on copies: past it a copy is refused and nothing is added', async () => {
    const before = await snapshotMailbox(h.mailbox);
    const res = await kiosk.post('/mail/actions', { _csrf: csrfIn(html), folder: 'Keep', uid: '1', action: 'copy', target: 'INBOX' });
    expect(res.status).toBe(403);
    expect(text(await res.text())).toContain('This session may not add more mail now.');
    expect(await snapshotMailbox(h.mailbox)).toEqual(before);
  });
});
