/**
 * GET /mail/compose[?folder=…&uid=…&mode=reply|all|forward][?draft=UID] and POST /mail/compose (Send or
 * Save draft). Sending goes through submitMessage — the SMTP listener's rules, limits and audit — and its
 * refusal is shown in the form with every value kept. Restricted sessions may send and save drafts; they
 * never delete the old draft (a new one is appended instead).
 */
import { Hono, type Context } from 'hono';
import type { FetchMessageObject, ImapFlow, MessageAddressObject } from 'imapflow';
import { sendableAddresses, submitMessage } from '../../../src/submission/index.js';
import type { WebEnv } from '../../env.js';
import { appendDraft, appendToSent, buildMessage, deleteDraft, emlName, markOriginal, originalSource, parseAddressField, type AttachedMessage, type Draft, type Upload } from '../../mail/compose.js';
import { findSpecialFolder, listFolders } from '../../mail/folders.js';
import { htmlToQuoteText } from '../../mail/html-text.js';
import { openMessage } from '../../mail/message-read.js';
import type { StorePool } from '../../mail/store-pool.js';
import { field, readForm, viewerOf, type Form } from '../../middleware/session.js';
import { ComposeView } from '../../views/mail-compose.js';
import { folderHref } from '../../views/mail-folders.js';
import { MailPage, NOTICES } from '../../views/mail-page.js';
import { folderParam, positiveInt, refusalFor, withStore } from './mail-context.js';

const EMPTY: Draft = { from: '', to: '', cc: '', bcc: '', subject: '', body: '', inReplyTo: '', references: '', origin: null, draftUid: null };

function addressList(list: MessageAddressObject[] | undefined): string {
  return (list ?? [])
    .filter((a) => a.address)
    .map((a) => (a.name ? `"${a.name.replace(/["\\]/g, '')}" <${a.address}>` : a.address!))
    .join(', ');
}

function prefixed(prefix: string, subject: string): string {
  return new RegExp(`^${prefix}:`, 'i').test(subject.trim()) ? subject : `${prefix}: ${subject}`;
}

async function referencesOf(client: ImapFlow, folder: string, uid: number): Promise<string> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    const m = await client.fetchOne(String(uid), { headers: ['references'] }, { uid: true });
    const raw = m && m.headers ? m.headers.toString('utf8') : '';
    return raw.replace(/^references:/i, '').replace(/\s+/g, ' ').trim().slice(0, 4000);
  } finally {
    lock.release();
  }
}

/** The form for a reply, reply all or forward of one message (quoted inline, or attached whole). */
async function draftFromOriginal(client: ImapFlow, folder: string, uid: number, mode: string, own: string[]): Promise<Draft> {
  const m = await openMessage(client, folder, uid, { markSeen: false });
  const env: FetchMessageObject['envelope'] = m.message.envelope;
  // An HTML-only message is quoted as a text rendering of its washed HTML, not as nothing.
  const text = m.text ?? (m.html !== null ? htmlToQuoteText(m.html) : '');
  const subject = env?.subject ?? '';
  if (mode === 'attach') return { ...EMPTY, from: own[0] ?? '', subject: prefixed('Fwd', subject), origin: { folder, uid, kind: 'forward' }, attachOriginal: true };
  if (mode === 'forward') {
    const head = [`From: ${addressList(env?.from)}`, `Date: ${env?.date ? new Date(env.date).toUTCString() : ''}`, `Subject: ${subject}`, `To: ${addressList(env?.to)}`];
    return { ...EMPTY, from: own[0] ?? '', subject: prefixed('Fwd', subject), body: `\n\n---------- Forwarded message ----------\n${head.join('\n')}\n\n${text}`, origin: { folder, uid, kind: 'forward' } };
  }
  const messageId = env?.messageId ?? '';
  const refs = `${await referencesOf(client, folder, uid)} ${messageId}`.trim();
  const to = addressList(env?.replyTo?.length ? env.replyTo : env?.from);
  const mine = new Set(own);
  const others = [...(env?.to ?? []), ...(env?.cc ?? [])].filter((a) => a.address && !mine.has(a.address.toLowerCase()));
  // Answer from the address the message was sent to, when it is one of ours.
  const addressed = [...(env?.to ?? []), ...(env?.cc ?? [])].map((a) => a.address?.toLowerCase() ?? '').find((a) => mine.has(a));
  const quoted = text.replace(/\r\n/g, '\n').split('\n').map((l) => `> ${l}`).join('\n');
  return {
    ...EMPTY,
    from: addressed ?? own[0] ?? '',
    to,
    cc: mode === 'all' ? addressList(others) : '',
    subject: prefixed('Re', subject),
    body: `\n\n${addressList(env?.from)} wrote:\n${quoted}\n`,
    inReplyTo: messageId,
    references: refs,
    origin: { folder, uid, kind: 'reply' },
  };
}

async function draftFromSaved(client: ImapFlow, uid: number): Promise<Draft> {
  const folder = (await findSpecialFolder(client, '\\Drafts')) ?? 'Drafts';
  const m = await openMessage(client, folder, uid, { markSeen: false });
  const env = m.message.envelope;
  const draft: Draft = {
    ...EMPTY,
    from: env?.from?.[0]?.address?.toLowerCase() ?? '',
    to: addressList(env?.to),
    cc: addressList(env?.cc),
    bcc: addressList(env?.bcc),
    subject: env?.subject ?? '',
    body: (m.text ?? '').replace(/\r\n/g, '\n'),
    inReplyTo: env?.inReplyTo ?? '',
    references: await referencesOf(client, folder, uid),
    draftUid: uid,
  };
  // Uploaded files cannot be put back into a form: keep the old draft (never replaced) so they are not lost.
  if (m.parts.attachments.some((a) => !a.inline)) {
    return { ...draft, draftUid: null, note: 'This draft has attachments: they stay in the saved draft in Drafts. Attach them again to send them.' };
  }
  return draft;
}

function draftFromForm(form: Form): Draft {
  const kind = field(form, 'origin_kind', 10);
  const originUid = positiveInt(field(form, 'origin_uid', 12), 0);
  return {
    from: field(form, 'from', 320).trim().toLowerCase(),
    to: field(form, 'to', 8000),
    cc: field(form, 'cc', 8000),
    bcc: field(form, 'bcc', 8000),
    subject: field(form, 'subject', 998).replace(/[\r\n]+/g, ' '),
    body: field(form, 'body', 10 * 1024 * 1024),
    inReplyTo: field(form, 'in_reply_to', 1000).replace(/[\r\n]+/g, ' '),
    references: field(form, 'references', 4000).replace(/[\r\n]+/g, ' '),
    origin: originUid && (kind === 'reply' || kind === 'forward') ? { folder: folderParam(field(form, 'origin_folder', 400)), uid: originUid, kind } : null,
    draftUid: positiveInt(field(form, 'draft_uid', 12), 0) || null,
    attachOriginal: kind === 'forward' && originUid > 0 && field(form, 'origin_attach', 1) === '1',
  };
}

/** The uploaded files (hono keeps the parsed body, so this reads what readForm already parsed). */
async function uploadsOf(c: Context<WebEnv>): Promise<Upload[]> {
  const body = await c.req.parseBody({ all: true });
  const raw = body.attachment;
  const files = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter((f): f is File => typeof f !== 'string' && f.size > 0);
  return Promise.all(files.map(async (f) => ({ filename: f.name || 'attachment', contentType: f.type || 'application/octet-stream', content: Buffer.from(await f.arrayBuffer()) })));
}

/** A refused send: the person's fault (422), too many (429), or the outgoing MTA's trouble (503). */
function refusalStatus(code: string, smtpStatus: number): 422 | 429 | 503 {
  if (code === 'SEND_RATE_LIMITED') return 429;
  return smtpStatus >= 500 ? 422 : 503;
}

export function createComposeRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();

  async function page(c: Context<WebEnv>, draft: Draft, error: string | null, errorField: string | null = null, status: 200 | 413 | 422 | 429 | 503 = 200) {
    const viewer = viewerOf(c);
    const fromChoices = await sendableAddresses(c.get('ctx'), viewer.session.userId);
    const folders = await withStore(c, pool, (client) => listFolders(client));
    return c.html(
      <MailPage title="Compose" viewer={viewer} path={c.req.path} folders={folders} current={null} notice={NOTICES[c.req.query('notice') ?? ''] ?? null}>
        <ComposeView draft={draft} fromChoices={fromChoices} csrf={viewer.session.csrfToken} error={error} errorField={errorField} />
      </MailPage>,
      status,
    );
  }

  app.get('/compose', async (c) => {
    const own = await sendableAddresses(c.get('ctx'), viewerOf(c).session.userId);
    const uid = positiveInt(c.req.query('uid'), 0);
    const draftUid = positiveInt(c.req.query('draft'), 0);
    const mode = c.req.query('mode') ?? 'reply';
    let draft: Draft = { ...EMPTY, from: own[0] ?? '' };
    if (draftUid) draft = await withStore(c, pool, (client) => draftFromSaved(client, draftUid));
    else if (uid) draft = await withStore(c, pool, (client) => draftFromOriginal(client, folderParam(c.req.query('folder')), uid, mode, own));
    return page(c, draft, null);
  });

  app.post('/compose', async (c) => {
    const ctx = c.get('ctx');
    const session = viewerOf(c).session;
    const form = await readForm(c);
    const draft = draftFromForm(form);
    const saving = field(form, 'action', 10) === 'save';
    const uploads = await uploadsOf(c);
    const total = uploads.reduce((n, u) => n + u.content.length, 0);
    if (total > ctx.config.MAX_MESSAGE_SIZE) {
      const mb = Math.floor(ctx.config.MAX_MESSAGE_SIZE / 1024 / 1024);
      return page(c, draft, `The attachments are too big together: the limit is ${mb} MB. Choose smaller files.`, 'attachment', 413);
    }
    const again = uploads.length ? ' Choose the attachments again.' : '';
    const recipients: string[] = [];
    for (const name of ['to', 'cc', 'bcc'] as const) {
      const parsed = parseAddressField(draft[name]);
      if (!parsed.ok) return page(c, draft, `“${parsed.bad}” is not an email address.${again}`, name, 422);
      recipients.push(...parsed.addresses);
    }
    // Forward as attachment: the original goes whole, within what is left of the size limit.
    let attached: AttachedMessage | null = null;
    if (draft.attachOriginal && draft.origin) {
      const origin = draft.origin;
      const found = await withStore(c, pool, (client) => originalSource(client, origin.folder, origin.uid, ctx.config.MAX_MESSAGE_SIZE - total));
      if (found === 'too-big') {
        const mb = Math.floor(ctx.config.MAX_MESSAGE_SIZE / 1024 / 1024);
        return page(c, draft, `The forwarded message and the attachments are too big together: the limit is ${mb} MB.${again}`, 'attachment', 413);
      }
      if (!found) return page(c, { ...draft, attachOriginal: false, origin: null }, `The message to forward no longer exists: it was deleted or moved by another program.${again}`, null, 422);
      attached = { filename: emlName(found.subject), source: found.source };
    }
    const own = await sendableAddresses(ctx, session.userId);
    const mayReplace = !refusalFor(c, { kind: 'replace-message' });

    if (saving) {
      const message = await buildMessage(draft, uploads, { keepBcc: true, attached });
      const saved = await withStore(c, pool, async (client) => {
        const res = await appendDraft(client, message);
        // A restricted session never replaces (the shared rule): the old draft stays, the new one is added.
        if (draft.draftUid && mayReplace) await deleteDraft(client, draft.draftUid);
        return res;
      });
      const drafts = await withStore(c, pool, (client) => findSpecialFolder(client, '\\Drafts'));
      return c.redirect(saved.uid ? `/mail/compose?draft=${saved.uid}&notice=draft-saved` : `${folderHref(drafts ?? 'Drafts')}&notice=draft-saved`, 303);
    }

    if (!recipients.length) return page(c, draft, 'Add at least one recipient.', 'to', 422);
    if (!own.includes(draft.from)) return page(c, draft, `You cannot send as ${draft.from || 'an empty address'}: choose one of your addresses.${again}`, 'from', 422);
    const message = await buildMessage(draft, uploads, { keepBcc: false, attached });
    const result = await submitMessage(ctx, {
      userId: session.userId,
      loginId: session.loginId ?? null,
      restricted: session.restricted,
      via: 'web',
      clientIp: c.get('ip') ?? null,
      envelopeFrom: draft.from,
      recipients,
      message,
    });
    if (!result.ok) return page(c, draft, `${result.text.replace(/^\d\.\d+\.\d+\s+/, '')}${again}`, null, refusalStatus(result.code, result.smtpStatus));
    // The message is gone out: a store failure now must not look like a failed send (the user would send twice).
    const filed = await withStore(c, pool, async (client) => {
      await appendToSent(client, message);
      if (draft.origin) await markOriginal(client, draft.origin).catch(() => undefined);
      if (draft.draftUid && mayReplace) await deleteDraft(client, draft.draftUid).catch(() => undefined);
    }).then(
      () => true,
      (err: unknown) => {
        ctx.log.warn({ err, code: 'WEBMAIL_SENT_COPY_FAILED', userId: session.userId }, 'message sent, but its copy in Sent failed');
        return false;
      },
    );
    const notice = filed ? 'sent' : 'sent-no-copy';
    return c.redirect(`${draft.origin ? `${folderHref(draft.origin.folder)}&` : '/mail?'}notice=${notice}`, 303);
  });

  return app;
}
