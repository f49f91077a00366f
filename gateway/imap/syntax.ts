/**
 * Byte classes of the IMAP formal syntax (RFC 9051 §9), shared by the readers, the parser and the
 * serializer so that what we accept and what we emit are judged by the same tables.
 */

export const NUL = 0x00;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const CRLF = Buffer.from('\r\n');

/** atom-specials minus SP and CTL: "(" ")" "{" "%" "*" DQUOTE "\" "]" (RFC 9051 §9). */
const ATOM_SPECIALS = new Set([...'(){%*"\\]'].map((c) => c.charCodeAt(0)));

/** ATOM-CHAR: any CHAR except atom-specials. */
export function isAtomChar(b: number): boolean {
  return b > SP && b < 0x7f && !ATOM_SPECIALS.has(b);
}

/** ASTRING-CHAR = ATOM-CHAR / resp-specials ("]"). */
export function isAstringChar(b: number): boolean {
  return isAtomChar(b) || b === 0x5d;
}

/** Tag characters: ASTRING-CHAR except "+" (RFC 9051 §9 `tag`), so never "*", control or 8-bit. */
export function isTagChar(b: number): boolean {
  return isAstringChar(b) && b !== 0x2b;
}

/**
 * Characters of a bare (unquoted) token as the parser reads it: atoms, numbers, sequence sets,
 * list-mailbox patterns ("%", "*") and "]" of astrings. A backslash is only valid as the first
 * byte (a system flag, `flag = "\" atom`), "[" opens a section, and "(", ")", "{" and DQUOTE always
 * end or break a token.
 */
export function isBareChar(b: number): boolean {
  return b > SP && b < 0x7f && b !== 0x28 && b !== 0x29 && b !== 0x7b && b !== DQUOTE && b !== BACKSLASH && b !== 0x5b;
}

/** Reads the tag at the start of a command line, or null when it is missing or invalid. */
export function readTag(line: Buffer): string | null {
  let end = line.indexOf(SP);
  if (end < 0) end = line.length;
  if (end === 0) return null;
  for (let i = 0; i < end; i++) if (!isTagChar(line[i]!)) return null;
  return line.toString('latin1', 0, end);
}

/** A literal announcement `{n}`, `{n+}`, `~{n}` or `~{n+}` at the end of a line (RFC 9051 §4.3). */
export interface LiteralMarker {
  /** Offset of the marker ("~" or "{") in the line. */
  start: number;
  /** Announced size in bytes; Infinity when it does not fit a safe integer. */
  size: number;
  /** False for `{n+}` (non-synchronizing, RFC 7888). */
  sync: boolean;
  /** True for literal8 `~{n}` (RFC 3516). */
  binary: boolean;
}

/** Finds a literal marker that ends `line` (CRLF already removed), or null. */
export function findLiteralMarker(line: Buffer): LiteralMarker | null {
  let j = line.length - 1;
  if (j < 2 || line[j] !== 0x7d) return null;
  j--;
  const sync = line[j] !== 0x2b;
  if (!sync) j--;
  const digitsEnd = j + 1;
  while (j >= 0 && line[j]! >= 0x30 && line[j]! <= 0x39) j--;
  const digitsStart = j + 1;
  if (digitsStart === digitsEnd || j < 0 || line[j] !== 0x7b) return null;
  const binary = j > 0 && line[j - 1] === 0x7e;
  const digits = line.toString('latin1', digitsStart, digitsEnd);
  const size = Number(digits);
  return {
    start: binary ? j - 1 : j,
    size: Number.isSafeInteger(size) ? size : Infinity,
    sync,
    binary,
  };
}
