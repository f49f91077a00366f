/**
 * Reading the originator fields (RFC 5322 §3.6.2: From:, Sender:) of a submitted message, without
 * trusting it to be well formed. Pure functions over bytes, so every hostile shape is a one-line test.
 *
 * Addresses come from nodemailer's addressparser, which does not decode RFC 2047 encoded-words: a
 * display name `=?utf-8?q?ceo@bank.example?=` stays a name, and only the addr-spec is judged. Where a
 * field could be read two ways — text with an "@" beside an <angle-addr>, an empty <>, two angle-addrs in
 * one mailbox — mail readers disagree about which address they show, so such a field is refused rather
 * than guessed at.
 */
import addressparser from 'nodemailer/lib/addressparser';

export type OriginatorHeader = 'From' | 'Sender';

export interface HeaderField {
  /** Lowercased field name. */
  name: string;
  /** The unfolded value, decoded as UTF-8 (RFC 6532 allows UTF-8 in headers). */
  value: string;
}

/** The header section's fields, and where the body starts (the byte after the empty line). */
export function readHeaderFields(message: Buffer): { fields: HeaderField[]; headerBytes: number } {
  const text = message.toString('latin1');
  // The header section ends at the first empty line; a message that starts with one has no header.
  const m = /\r?\n\r?\n/.exec(text);
  const startsEmpty = /^\r?\n/.exec(text);
  const headerBytes = startsEmpty ? 0 : m ? m.index : text.length;
  const head = message.subarray(0, headerBytes).toString('utf8');
  const fields: HeaderField[] = [];
  // Unfold (RFC 5322 §2.2.3), then one field per line. "From :" (obsolete WSP before the colon, §4.5.3)
  // is read as From, since some readers do.
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const f = /^([^:\s]+)[ \t]*:(.*)$/s.exec(line);
    if (f) fields.push({ name: f[1]!.toLowerCase(), value: f[2]!.trim() });
  }
  return { fields, headerBytes };
}

export type FieldReading = { ok: true; addresses: string[] } | { ok: false; problem: 'no-address' | 'ambiguous' };

/** Every address a From:/Sender: value names (group members included), or why none can be trusted. */
export function readAddresses(value: string): FieldReading {
  if (isAmbiguous(value)) return { ok: false, problem: 'ambiguous' };
  const parsed = addressparser(value, { flatten: true });
  const addresses = parsed.map((a) => a.address.trim());
  if (!addresses.length || addresses.some((a) => !/^[^\s@]+@[^\s@]+$/.test(a))) return { ok: false, problem: 'no-address' };
  return { ok: true, addresses };
}

/** Stands for an <angle-addr> in the reduced text; a control character no header may carry. */
const MARK = String.fromCharCode(1);
const ENCODED_WORD = /=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=/g;

/**
 * True when a mailbox in the list mixes an <angle-addr> with other text holding an "@", has an empty or
 * second angle-addr, or is bare text that is not one addr-spec. Quoted strings, comments and
 * encoded-words are display text and are removed first.
 */
function isAmbiguous(value: string): boolean {
  if (value.includes(MARK)) return true;
  let bare = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === '"') {
      i++;
      while (i < value.length && value[i] !== '"') i += value[i] === '\\' ? 2 : 1;
      i++;
      bare += ' ';
    } else if (c === '(') {
      let depth = 1;
      i++;
      while (i < value.length && depth > 0) {
        if (value[i] === '\\') i++;
        else if (value[i] === '(') depth++;
        else if (value[i] === ')') depth--;
        i++;
      }
      bare += ' ';
    } else if (c === '<') {
      const end = value.indexOf('>', i);
      const inner = value.slice(i + 1, end < 0 ? undefined : end).trim();
      if (!inner) return true;
      bare += MARK;
      i = end < 0 ? value.length : end + 1;
    } else {
      bare += c;
      i++;
    }
  }
  bare = bare.replace(ENCODED_WORD, ' ');
  // A group "name: a, b;" lists mailboxes after its colon.
  const colon = bare.indexOf(':');
  if (colon >= 0 && !/[@<]/.test(bare.slice(0, colon).replaceAll(MARK, '<'))) bare = bare.slice(colon + 1).replace(/;\s*$/, '');
  for (const piece of bare.split(',')) {
    const angles = piece.split(MARK).length - 1;
    if (angles > 1) return true;
    if (angles === 1 && piece.includes('@')) return true;
    if (angles === 0 && piece.includes('@') && !/^\s*[^\s@]+@[^\s@]+\s*$/.test(piece)) return true;
  }
  return false;
}
