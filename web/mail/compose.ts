/**
 * Writing mail: the compose form's fields checked, the MIME built by nodemailer's MailComposer (never by
 * hand), and the store side of sending — the copy APPENDed to Sent, drafts saved to Drafts, and
 * \Answered / $Forwarded set on the original. Sending itself is src/submission's submitMessage, the same
 * rules, limits and audit as the SMTP listener.
 */
import addressparser from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ImapFlow } from 'imapflow';
import { looksLikeAddress } from '../../src/accounts/addresses.js';
import { findSpecialFolder } from './folders.js';

/** Addresses in To + Cc + Bcc together: the submission rules apply their own (lower) limit too. */
const MAX_RECIPIENT_FIELD = 4000;

export interface Upload {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** Forwarded as attachment: the original message's raw source, as its own MIME part. */
export interface AttachedMessage {
  filename: string;
  source: Buffer;
}

export interface Draft {
  from: string;
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  body: string;
  inReplyTo: string;
  references: string;
  /** The message replied to or forwarded (folder + UID), to flag once sent. */
  origin: { folder: string; uid: number; kind: 'reply' | 'forward' } | null;
  /** Forward as attachment: the original (origin) goes with the message whole, as message/rfc822. */
  attachOriginal?: boolean;
  /** The draft this form was resumed from, replaced (full sessions) when saved again or sent. */
  draftUid: number | null;
  /** Something the person must know about this form (a resumed draft's attachments). */
  note?: string;
}

export type ParsedAddresses = { ok: true; addresses: string[] } | { ok: false; bad: string };

/** One To/Cc/Bcc field: comma-separated addresses, each a plain address (a display name is allowed). */
export function parseAddressField(value: string): ParsedAddresses {
  if (value.length > MAX_RECIPIENT_FIELD) return { ok: false, bad: `${value.slice(0, 40)}…` };
  const out: string[] = [];
  for (const part of value.split(/[,;\n]/)) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const parsed = addressparser(trimmed, { flatten: true });
    const address = parsed.length === 1 ? parsed[0]!.address.trim() : '';
    if (!address || !looksLikeAddress(address)) return { ok: false, bad: trimmed };
    out.push(address);
  }
  return { ok: true, addresses: out };
}

/** The RFC 5322 message (Bcc kept out of the header, as every mail client does). */
export async function buildMessage(d: Draft, attachments: Upload[], options: { keepBcc: boolean; attached?: AttachedMessage | null }): Promise<Buffer> {
  // RFC 2046 §5.2.1: a message/rfc822 part is 7bit, 8bit or binary, never base64; nodemailer picks one.
  const forwarded = options.attached ? [{ filename: options.attached.filename, contentType: 'message/rfc822', content: options.attached.source, contentDisposition: 'attachment' as const }] : [];
  const composer = new MailComposer({
    from: d.from,
    to: d.to || undefined,
    cc: d.cc || undefined,
    bcc: d.bcc || undefined,
    subject: d.subject,
    text: d.body,
    inReplyTo: d.inReplyTo || undefined,
    references: d.references || undefined,
    attachments: [...forwarded, ...attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content }))],
  });
  const mail = composer.compile();
  // A draft keeps its Bcc so that resuming it loses nothing; a sent message never shows it.
  mail.keepBcc = options.keepBcc;
  return mail.build();
}

/** The Sent folder (special-use \Sent, else one named "Sent", created when missing). */
async function sentFolder(client: ImapFlow, use: '\\Sent' | '\\Drafts', name: string): Promise<string> {
  const found = await findSpecialFolder(client, use);
  if (found) return found;
  const list = await client.list();
  const named = list.find((f) => f.path.toLowerCase() === name.toLowerCase());
  if (named) return named.path;
  return (await client.mailboxCreate(name)).path;
}

export async function appendToSent(client: ImapFlow, message: Buffer): Promise<void> {
  await client.append(await sentFolder(client, '\\Sent', 'Sent'), message, ['\\Seen']);
}

/** Saves a draft; returns its folder and new UID (when the store says it). */
export async function appendDraft(client: ImapFlow, message: Buffer): Promise<{ folder: string; uid: number | null }> {
  const folder = await sentFolder(client, '\\Drafts', 'Drafts');
  const res = await client.append(folder, message, ['\\Draft', '\\Seen']);
  return { folder, uid: res && typeof res.uid === 'number' ? res.uid : null };
}

/** Removes the draft a resumed form came from (full sessions only: the caller asks the restricted rule). */
export async function deleteDraft(client: ImapFlow, uid: number): Promise<void> {
  const folder = await sentFolder(client, '\\Drafts', 'Drafts');
  const lock = await client.getMailboxLock(folder);
  try {
    await client.messageDelete(String(uid), { uid: true });
  } finally {
    lock.release();
  }
}

/** The whole source of a message to forward as attachment (bounded: past `max` bytes it is refused), or null when gone. */
export async function originalSource(client: ImapFlow, folder: string, uid: number, max: number): Promise<{ source: Buffer; subject: string } | 'too-big' | null> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    const m = await client.fetchOne(String(uid), { uid: true, size: true, envelope: true }, { uid: true });
    if (!m) return null;
    if ((m.size ?? 0) > max) return 'too-big';
    const full = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
    return full && full.source ? { source: full.source, subject: m.envelope?.subject ?? '' } : null;
  } finally {
    lock.release();
  }
}

/** A file name for a forwarded message: its subject, without what file systems refuse, ".eml". */
export function emlName(subject: string): string {
  // eslint-disable-next-line no-control-regex
  const base = subject.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 80);
  return `${base || 'message'}.eml`;
}

/** \Answered on a message replied to, $Forwarded on one forwarded; a message gone since is no error. */
export async function markOriginal(client: ImapFlow, origin: NonNullable<Draft['origin']>): Promise<void> {
  const lock = await client.getMailboxLock(origin.folder);
  try {
    await client.messageFlagsAdd(String(origin.uid), [origin.kind === 'reply' ? '\\Answered' : '$Forwarded'], { uid: true });
  } finally {
    lock.release();
  }
}
