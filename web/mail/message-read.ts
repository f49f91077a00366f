/**
 * Reading one message: envelope, flags and BODYSTRUCTURE in one FETCH, then only the body parts shown
 * (decoded to UTF-8 by imapflow, bounded in size), the neighbours for previous/next, and \Seen set (which
 * every session may add). A message expunged elsewhere is MessageGoneError.
 */
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { analyseStructure, type Attachment, type MessageParts } from './mime-parts.js';
import { inFolder } from './open-folder.js';

/** A body part shown on the page is at most this big; the rest is cut with a note. */
export const MAX_SHOWN_PART_BYTES = 2 * 1024 * 1024;
/** Inline images embedded into the HTML frame, each and in all. */
const MAX_INLINE_IMAGE_BYTES = 1024 * 1024;
const MAX_INLINE_IMAGES_TOTAL = 5 * 1024 * 1024;
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export class MessageGoneError extends Error {
  constructor(readonly folder: string) {
    super('message does not exist');
    this.name = 'MessageGoneError';
  }
}

export interface OpenedMessage {
  uid: number;
  folder: string;
  message: FetchMessageObject;
  parts: MessageParts;
  text: string | null;
  html: string | null;
  /** Newer and older neighbours' UIDs in the folder (sequence order), for previous/next. */
  newer: number | null;
  older: number | null;
  cut: boolean;
}

/** Reads a decoded part as text, at most `max` bytes; `cut` says whether more was there. */
async function partText(client: ImapFlow, uid: number, part: string, max = MAX_SHOWN_PART_BYTES): Promise<{ text: string; cut: boolean } | null> {
  const dl = await client.download(String(uid), part, { uid: true, maxBytes: max + 1 });
  if (!dl.content) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of dl.content as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
  }
  const buf = Buffer.concat(chunks);
  // NUL bytes show nothing and confuse some parsers downstream; they are dropped.
  return { text: buf.subarray(0, max).toString('utf8').replaceAll('\u0000', ''), cut: size > max };
}

export async function openMessage(client: ImapFlow, folder: string, uid: number, options: { markSeen: boolean }): Promise<OpenedMessage> {
  return inFolder(client, folder, async (exists) => {
    const message = await client.fetchOne(String(uid), { uid: true, envelope: true, flags: true, bodyStructure: true, internalDate: true, size: true }, { uid: true });
    if (!message) throw new MessageGoneError(folder);
    const parts = analyseStructure(message.bodyStructure);
    let cut = false;
    const text = parts.text ? await partText(client, uid, parts.text.part) : null;
    const html = parts.html ? await partText(client, uid, parts.html.part) : null;
    cut = Boolean(text?.cut || html?.cut);
    const neighbours: Array<{ seq: number; uid: number }> = [];
    const around = [message.seq - 1, message.seq + 1].filter((s) => s >= 1 && s <= exists);
    if (around.length) for await (const m of client.fetch(around.join(','), { uid: true })) neighbours.push({ seq: m.seq, uid: m.uid });
    if (options.markSeen && !message.flags?.has('\\Seen')) await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    return {
      uid,
      folder,
      message,
      parts,
      text: text?.text ?? null,
      html: html?.text ?? null,
      newer: neighbours.find((n) => n.seq === message.seq + 1)?.uid ?? null,
      older: neighbours.find((n) => n.seq === message.seq - 1)?.uid ?? null,
      cut,
    };
  });
}

/** The message's small inline images as data: URLs by Content-ID, for the HTML frame (bounded). */
export async function inlineImages(client: ImapFlow, folder: string, uid: number, attachments: Attachment[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let total = 0;
  await inFolder(client, folder, async () => {
    for (const a of attachments) {
      if (!a.contentId || !INLINE_IMAGE_TYPES.has(a.type) || a.size > MAX_INLINE_IMAGE_BYTES * 1.4 || total > MAX_INLINE_IMAGES_TOTAL) continue;
      const dl = await client.download(String(uid), a.part, { uid: true, maxBytes: MAX_INLINE_IMAGE_BYTES });
      if (!dl.content) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of dl.content as AsyncIterable<Buffer>) chunks.push(chunk);
      const buf = Buffer.concat(chunks);
      total += buf.length;
      out.set(a.contentId, `data:${a.type};base64,${buf.toString('base64')}`);
    }
  });
  return out;
}
