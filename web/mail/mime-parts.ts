/**
 * What a message's BODYSTRUCTURE (RFC 9051 §7.5.2, parsed by the store, so broken MIME has already been
 * made into some tree) means for a reader: the text and HTML parts to show, the attachments to list, and
 * the inline images an HTML part may refer to by cid:. Pure; bounded so a 100-level nest or thousands of
 * parts cost a fixed amount.
 */
import type { MessageStructureObject } from 'imapflow';

/** Deeper than any real mail; a hostile nest is cut here. */
const MAX_DEPTH = 20;
/** Parts looked at; the rest of a hostile message is ignored. */
const MAX_PARTS = 500;

export interface BodyPart {
  /** The IMAP part number ("1.2"); "1" for a single-part message. */
  part: string;
  type: string;
  size: number;
  charset: string | null;
}

export interface Attachment extends BodyPart {
  filename: string;
  /** The Content-ID without angle brackets, for cid: references. */
  contentId: string | null;
  inline: boolean;
}

export interface MessageParts {
  text: BodyPart | null;
  html: BodyPart | null;
  attachments: Attachment[];
  /** True when parts were skipped because the structure was too deep or too large. */
  truncated: boolean;
}

function leafPart(node: MessageStructureObject): string {
  return node.part ?? '1';
}

function filenameOf(node: MessageStructureObject): string | null {
  const name = node.dispositionParameters?.filename ?? node.parameters?.name;
  // eslint-disable-next-line no-control-regex
  return name ? name.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255) || null : null;
}

function stripBrackets(id: string | undefined): string | null {
  if (!id) return null;
  return id.trim().replace(/^<|>$/g, '') || null;
}

function describe(node: MessageStructureObject): BodyPart {
  return { part: leafPart(node), type: (node.type || 'application/octet-stream').toLowerCase(), size: node.size ?? 0, charset: node.parameters?.charset ?? null };
}

/** Walks the tree: the first text/plain and text/html not marked as attachments are the body. */
export function analyseStructure(root: MessageStructureObject | undefined): MessageParts {
  const out: MessageParts = { text: null, html: null, attachments: [], truncated: false };
  if (!root) return out;
  let seen = 0;
  const walk = (node: MessageStructureObject, depth: number): void => {
    if (++seen > MAX_PARTS || depth > MAX_DEPTH) {
      out.truncated = true;
      return;
    }
    const type = (node.type || '').toLowerCase();
    if (type.startsWith('multipart/')) {
      for (const child of node.childNodes ?? []) walk(child, depth + 1);
      return;
    }
    const part = describe(node);
    const isAttachment = node.disposition?.toLowerCase() === 'attachment' || filenameOf(node) !== null && !type.startsWith('text/');
    if (!isAttachment && type === 'text/plain' && !out.text) out.text = part;
    else if (!isAttachment && type === 'text/html' && !out.html) out.html = part;
    else if (type === 'message/rfc822' || isAttachment || !type.startsWith('text/') || out.text || out.html) {
      out.attachments.push({
        ...part,
        filename: filenameOf(node) ?? (type === 'message/rfc822' ? 'message.eml' : `part-${part.part}`),
        contentId: stripBrackets(node.id),
        inline: node.disposition?.toLowerCase() !== 'attachment' && Boolean(node.id),
      });
    }
  };
  walk(root, 0);
  return out;
}

/** The list's paperclip: any part a person would call an attachment. */
export function hasAttachment(root: MessageStructureObject | undefined): boolean {
  return analyseStructure(root).attachments.some((a) => !a.inline);
}
