/**
 * Writing mail in the webmail, against the real Dovecot: a message composed with an attachment goes
 * through submitMessage and the dev MTA into the recipient's INBOX and into the sender's Sent; a reply
 * carries In-Reply-To/References and sets \Answered; a From the user does not own is refused with the form
 * kept; drafts are saved and resumed, and a restricted session's second save appends without deleting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { provenAddresses } from '../../../src/db/schema.js';
import { startDevMta, type DevMta } from '../../../src/upstream/dev-mta.js';
import { storeClient } from '../../helpers/mailstore.js';
import { csrfIn, text, type WebClient } from '../harness.js';
import { createMailHarness, type MailHarness } from './mail-harness.js';

const MAX_SIZE = 200_000;
let h: MailHarness;
let mta: DevMta;
let me: string;
const bob = { user: `bob-${process.pid}-${Date.now()}`, email: '' };

async function folderMessages(mailbox: string, folder: string): Promise<Array<{ uid: number; flags: string[]; source: string }>> {
  const c = await storeClient(mailbox);
  try {
    const lock = await c.getMailboxLock(folder, { readOnly: true });
    try {
      const out: Array<{ uid: number; flags: string[]; source: string }> = [];
      // \Recent belongs to the session that saw the message first, not to the store.
      if (c.mailbox && c.mailbox.exists)
        for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true }))
          out.push({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent'), source: m.source!.toString() });
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

/** Posts the compose form as a browser does (multipart), with files. */
async function postCompose(client: WebClient, fields: Record<string, string>, files: Array<{ name: string; type: string; data: Buffer }> = []): Promise<Response> {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const f of files) body.append('attachment', new Blob([f.data], { type: f.type }), f.name);
  return client.request('/mail/compose', { method: 'POST', body, headers: { origin: new URL(h.ctx.config.PUBLIC_URL).origin } });
}

beforeAll(async () => {
  h = await createMailHarness({ MAX_MESSAGE_SIZE: String(MAX_SIZE) });
  me = `${h.mailbox}@example.test`.toLowerCase();
  await h.ctx.db.insert(provenAddresses).values({ address: me, userId: h.userId, provenBy: 'operator' });
  bob.email = `${bob.user}@example.test`;
  await createUser(h.ctx, { username: bob.user, password: 'bob main password', email: bob.email });
  mta = await startDevMta(h.ctx);
  h.ctx.devMta = { host: mta.host, port: mta.port };
});
afterAll(async () => {
  await mta?.close();
  await h?.close();
});

describe('Compose and send', () => {
  it('sends a message with an attachment: it arrives in the recipient’s INBOX and in Sent (\\Seen), Bcc hidden', async () => {
    const alice = await h.full();
    const form = await (await alice.get('/mail/compose')).text();
    expect(form).toContain(`<option value="${me}"`);
    const attachment = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    const res = await postCompose(
      alice,
      { _csrf: csrfIn(form), action: 'send', from: me, to: bob.email, cc: '', bcc: `"Hidden" <${me}>`, subject: 'Hello with file', body: 'See the file.' },
      [{ name: 'data.bin', type: 'application/octet-stream', data: attachment }],
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail?notice=sent');
    const arrived = (await folderMessages(bob.user, 'INBOX')).find((m) => m.source.includes('Subject: Hello with file'));
    expect(arrived).toBeDefined();
    expect(arrived!.source).toContain('filename=data.bin');
    expect(arrived!.source).toContain(attachment.toString('base64').slice(0, 60));
    expect(arrived!.source).not.toMatch(/^Bcc:/im);
    const sent = (await folderMessages(h.mailbox, 'Sent')).find((m) => m.source.includes('Subject: Hello with file'));
    expect(sent?.flags).toContain('\\Seen');
    expect(sent!.source).toContain('filename=data.bin');
  });

  it('replies with In-Reply-To and References, and marks the original \\Answered', async () => {
    const store = await storeClient(h.mailbox);
    await store.append('INBOX', `From: Bob <${bob.email}>\r\nTo: <${me}>\r\nSubject: Question\r\nMessage-ID: <q1@example.test>\r\nReferences: <q0@example.test>\r\n\r\nAre you there?\r\n`);
    await store.logout();
    const original = (await folderMessages(h.mailbox, 'INBOX')).find((m) => m.source.includes('<q1@example.test>'))!;
    const alice = await h.full();
    const form = await (await alice.get(`/mail/compose?folder=INBOX&uid=${original.uid}&mode=reply`)).text();
    expect(text(form)).toContain('Re: Question');
    expect(text(form)).toContain('> Are you there?');
    const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)"/g)].map((m) => [m[1]!, text(m[2]!)]));
    const res = await postCompose(alice, { ...fields, action: 'send', from: me, to: bob.email, subject: 'Re: Question', body: 'Yes.' });
    expect(res.status).toBe(303);
    const reply = (await folderMessages(bob.user, 'INBOX')).find((m) => m.source.includes('Subject: Re: Question'))!;
    expect(reply.source).toMatch(/^In-Reply-To: <q1@example\.test>/im);
    expect(reply.source).toMatch(/^References: <q0@example\.test> <q1@example\.test>/im);
    const after = (await folderMessages(h.mailbox, 'INBOX')).find((m) => m.uid === original.uid)!;
    expect(after.flags).toContain('\\Answered');
  });

  it('refuses a From the user does not own, keeps every value, and sends nothing', async () => {
    const alice = await h.full();
    const token = csrfIn(await (await alice.get('/mail/compose')).text());
    const before = (await folderMessages(bob.user, 'INBOX')).length;
    const res = await postCompose(alice, { _csrf: token, action: 'send', from: 'ceo@elsewhere.test', to: bob.email, subject: 'Forged subject', body: 'Forged body text' });
    expect(res.status).toBe(422);
    const page = text(await res.text());
    expect(page).toContain('You cannot send as ceo@elsewhere.test');
    expect(page).toContain('value="Forged subject"');
    expect(page).toContain('Forged body text');
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect((await folderMessages(bob.user, 'INBOX')).length).toBe(before);
  });

  it('refuses a compose post without the form token (403) and sends nothing', async () => {
    const alice = await h.full();
    const before = (await folderMessages(bob.user, 'INBOX')).length;
    const res = await postCompose(alice, { action: 'send', from: me, to: bob.email, subject: 'Forged post', body: 'x' });
    expect(res.status).toBe(403);
    expect((await folderMessages(bob.user, 'INBOX')).length).toBe(before);
  });

  it('refuses a bad recipient address in the form, values kept', async () => {
    const alice = await h.full();
    const token = csrfIn(await (await alice.get('/mail/compose')).text());
    const res = await postCompose(alice, { _csrf: token, action: 'send', from: me, to: 'not an address', subject: 'Kept subject', body: 'x' });
    expect(res.status).toBe(422);
    const page = text(await res.text());
    expect(page).toContain('“not an address” is not an email address.');
    expect(page).toContain('value="Kept subject"');
  });
});

describe('Forward, limits and restricted sessions', () => {
  it('forwards inline and marks the original $Forwarded', async () => {
    const store = await storeClient(h.mailbox);
    await store.append('INBOX', `From: Bob <${bob.email}>\r\nTo: <${me}>\r\nSubject: Minutes\r\nMessage-ID: <m1@example.test>\r\n\r\nThe minutes.\r\n`);
    await store.logout();
    const original = (await folderMessages(h.mailbox, 'INBOX')).find((m) => m.source.includes('<m1@example.test>'))!;
    const alice = await h.full();
    const form = await (await alice.get(`/mail/compose?folder=INBOX&uid=${original.uid}&mode=forward`)).text();
    expect(text(form)).toContain('value="Fwd: Minutes"');
    expect(text(form)).toContain('---------- Forwarded message ----------');
    const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)"/g)].map((m) => [m[1]!, text(m[2]!)]));
    const res = await postCompose(alice, { ...fields, action: 'send', from: me, to: bob.email, subject: 'Fwd: Minutes', body: 'FYI\n\nThe minutes.' });
    expect(res.status).toBe(303);
    expect((await folderMessages(h.mailbox, 'INBOX')).find((m) => m.uid === original.uid)!.flags).toContain('$Forwarded');
  });

  it('forwards as attachment: the original goes whole as message/rfc822, and is marked $Forwarded', async () => {
    const store = await storeClient(h.mailbox);
    await store.append('INBOX', `From: Bob <${bob.email}>\r\nTo: <${me}>\r\nSubject: Contract draft\r\nMessage-ID: <m-att@example.test>\r\n\r\nClause 7 changed.\r\n`);
    await store.logout();
    const original = (await folderMessages(h.mailbox, 'INBOX')).find((m) => m.source.includes('<m-att@example.test>'))!;
    const alice = await h.full();
    const form = await (await alice.get(`/mail/compose?folder=INBOX&uid=${original.uid}&mode=attach`)).text();
    expect(text(form)).toContain('value="Fwd: Contract draft"');
    expect(text(form)).toContain('The original message is attached to this one');
    expect(text(form)).not.toContain('Clause 7 changed.');
    const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)"/g)].map((m) => [m[1]!, text(m[2]!)]));
    expect(fields.origin_attach).toBe('1');
    const res = await postCompose(alice, { ...fields, action: 'send', from: me, to: bob.email, subject: 'Fwd: Contract draft', body: 'See attached.' });
    expect(res.status).toBe(303);
    const arrived = (await folderMessages(bob.user, 'INBOX')).find((m) => m.source.includes('Subject: Fwd: Contract draft'))!;
    expect(arrived.source).toMatch(/Content-Type: message\/rfc822; name="?Contract draft\.eml"?/i);
    expect(arrived.source).toContain('Content-Disposition: attachment');
    // The original's own headers and body travel unencoded inside the part (RFC 2046 §5.2.1).
    expect(arrived.source).toContain('Message-ID: <m-att@example.test>');
    expect(arrived.source).toContain('Clause 7 changed.');
    expect((await folderMessages(h.mailbox, 'INBOX')).find((m) => m.uid === original.uid)!.flags).toContain('$Forwarded');
  });

  it('quotes an HTML-only message as text in a reply and a forward, without what the sanitizer drops', async () => {
    const store = await storeClient(h.mailbox);
    const html = '<html><head><style>p{color:red}</style><script>alert("x")</script></head><body><p>Dear <b>Ann</b>, see <a href="https://example.com/r">the report</a>.</p><ul><li>first point</li></ul><img src="https://tracker.example/p.gif" alt="pixel"></body></html>';
    await store.append('INBOX', `From: Bob <${bob.email}>\r\nTo: <${me}>\r\nSubject: Html only\r\nMessage-ID: <m-html@example.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`);
    await store.logout();
    const original = (await folderMessages(h.mailbox, 'INBOX')).find((m) => m.source.includes('<m-html@example.test>'))!;
    const alice = await h.full();
    const reply = text(await (await alice.get(`/mail/compose?folder=INBOX&uid=${original.uid}&mode=reply`)).text());
    expect(reply).toContain('> Dear Ann, see the report [https://example.com/r].');
    expect(reply).toContain('>  * first point');
    for (const dropped of ['color:red', 'alert', 'pixel', 'tracker.example']) expect(reply).not.toContain(dropped);
    const forward = text(await (await alice.get(`/mail/compose?folder=INBOX&uid=${original.uid}&mode=forward`)).text());
    expect(forward).toContain('Dear Ann, see the report [https://example.com/r].');
  });

  it('refuses attachments above MAX_MESSAGE_SIZE with a clear error in the form, values kept, nothing sent', async () => {
    const alice = await h.full();
    const token = csrfIn(await (await alice.get('/mail/compose')).text());
    const before = (await folderMessages(bob.user, 'INBOX')).length;
    const res = await postCompose(alice, { _csrf: token, action: 'send', from: me, to: bob.email, subject: 'Too big', body: 'x' }, [
      { name: 'big.bin', type: 'application/octet-stream', data: Buffer.alloc(MAX_SIZE + 1000, 1) },
    ]);
    expect(res.status).toBe(413);
    const page = text(await res.text());
    expect(page).toContain('The attachments are too big together');
    expect(page).toContain('value="Too big"');
    expect((await folderMessages(bob.user, 'INBOX')).length).toBe(before);
  });

  it('lets a restricted session send (through the same submission rules)', async () => {
    const kiosk = await h.restricted();
    const token = csrfIn(await (await kiosk.get('/mail/compose')).text());
    const res = await postCompose(kiosk, { _csrf: token, action: 'send', from: me, to: bob.email, subject: 'From the kiosk', body: 'Hi' });
    expect(res.status).toBe(303);
    expect((await folderMessages(bob.user, 'INBOX')).some((m) => m.source.includes('Subject: From the kiosk'))).toBe(true);
  });
});

describe('Drafts', () => {
  it('saves a draft (\\Draft \\Seen), resumes it, and a full session’s second save replaces it', async () => {
    const alice = await h.full();
    const token = csrfIn(await (await alice.get('/mail/compose')).text());
    const res = await postCompose(alice, { _csrf: token, action: 'save', from: me, to: bob.email, bcc: me, subject: 'Draft one', body: 'Half written' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/mail\/compose\?draft=\d+&notice=draft-saved$/);
    const drafts = await folderMessages(h.mailbox, 'Drafts');
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.flags.sort()).toEqual(['\\Draft', '\\Seen']);
    const resumed = text(await (await alice.get(location)).text());
    expect(resumed).toContain('value="Draft one"');
    expect(resumed).toContain('Half written');
    expect(resumed).toContain(`value="${bob.email}"`);
    expect(resumed).toContain(`name="draft_uid" value="${drafts[0]!.uid}"`);
    const again = await postCompose(alice, { _csrf: token, action: 'save', draft_uid: String(drafts[0]!.uid), from: me, to: bob.email, subject: 'Draft two', body: 'More' });
    expect(again.status).toBe(303);
    const now = await folderMessages(h.mailbox, 'Drafts');
    expect(now.map((m) => m.source.match(/^Subject: (.*)$/m)![1]!.trim())).toEqual(['Draft two']);
  });

  it('resuming a draft with attachments says so and keeps that draft when saved again', async () => {
    const alice = await h.full();
    const token = csrfIn(await (await alice.get('/mail/compose')).text());
    const res = await postCompose(alice, { _csrf: token, action: 'save', from: me, to: bob.email, subject: 'Draft with file', body: 'x' }, [
      { name: 'notes.bin', type: 'application/octet-stream', data: Buffer.from('notes') },
    ]);
    const location = res.headers.get('location')!;
    const uid = Number(/draft=(\d+)/.exec(location)![1]);
    const resumed = await (await alice.get(location)).text();
    expect(resumed).toContain('This draft has attachments');
    expect(resumed).not.toContain('name="draft_uid"');
    await postCompose(alice, { _csrf: token, action: 'save', from: me, to: bob.email, subject: 'Draft with file', body: 'x y' });
    expect((await folderMessages(h.mailbox, 'Drafts')).some((m) => m.uid === uid)).toBe(true);
  });

  it('in a restricted session, saving again appends a new draft and never deletes the old one', async () => {
    const kiosk = await h.restricted();
    const token = csrfIn(await (await kiosk.get('/mail/compose')).text());
    const before = await folderMessages(h.mailbox, 'Drafts');
    const old = before[0]!;
    const res = await postCompose(kiosk, { _csrf: token, action: 'save', draft_uid: String(old.uid), from: me, to: bob.email, subject: 'Kiosk draft', body: 'From the café' });
    expect(res.status).toBe(303);
    const after = await folderMessages(h.mailbox, 'Drafts');
    expect(after).toHaveLength(before.length + 1);
    expect(after.find((m) => m.uid === old.uid)?.flags).not.toContain('\\Deleted');
    expect(after.some((m) => m.source.includes('Subject: Kiosk draft'))).toBe(true);
  });
});
