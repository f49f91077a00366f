/**
 * The parsed form of a client command. Every command the gateway relays is rebuilt from this, so
 * no byte the client chose reaches the store uninterpreted (see serialize-command.ts).
 */

/** One argument of a command (RFC 9051 §9: atom, number, sequence-set, nstring, astring, lists). */
export type Arg =
  /** A bare token that is neither a number, a sequence set nor NIL: `\Seen`, `BODY[]`, `INBOX`, `%`. */
  | { type: 'atom'; value: string }
  /** Digits only, kept as text: a mailbox named "007" must stay "007". */
  | { type: 'number'; value: string }
  /** A sequence set with ":" "," or "*", or the SEARCHRES reference "$" (RFC 5182). */
  | { type: 'sequence-set'; value: string }
  | { type: 'nil' }
  /** A quoted string or a literal; which one the client used does not matter to the meaning. */
  | { type: 'string'; value: Buffer }
  /** An APPEND/REPLACE message that is streamed, never held: only its size is known here. */
  | { type: 'streamed-literal'; size: number; binary: boolean }
  | { type: 'list'; items: Arg[] }
  /**
   * A fetch attribute whose section has a header list, `BODY.PEEK[HEADER.FIELDS (From To)]<0.100>`
   * (RFC 9051 §6.4.5): name "BODY.PEEK", section "HEADER.FIELDS", partial "<0.100>". Sections
   * without a list (`BODY[1.2]`) are atoms.
   */
  | { type: 'section'; name: string; section: string; fields: Arg[]; partial: string };

/** Session states of RFC 9051 §3. Logout needs no entry: nothing is read in it. */
export type SessionState = 'not-authenticated' | 'authenticated' | 'selected';

export interface Command {
  tag: string;
  /** Canonical upper-case name from the command table: "FETCH", "UID FETCH". */
  name: string;
  args: Arg[];
}

/** True for the forms RFC 9051 calls astring: atom, number, string, and NIL read as the word. */
export function isAstring(arg: Arg | undefined): boolean {
  return arg !== undefined && (arg.type === 'atom' || arg.type === 'number' || arg.type === 'string'
    || arg.type === 'nil' || arg.type === 'sequence-set');
}

/**
 * The text of an astring, or null for other forms. Policy compares item names through this, so
 * `+FLAGS`, `"+FLAGS"` and a literal `+FLAGS` are the same word, as they are to Dovecot.
 */
export function astringValue(arg: Arg | undefined): string | null {
  if (!arg) return null;
  switch (arg.type) {
    case 'atom':
    case 'number':
    case 'sequence-set':
      return arg.value;
    case 'nil':
      return 'NIL';
    case 'string':
      return arg.value.toString('utf8');
    default:
      return null;
  }
}

/** True for a number or a sequence set (`1`, `1:*`, `$`). */
export function isSequenceSet(arg: Arg | undefined): boolean {
  return arg !== undefined && (arg.type === 'number' || arg.type === 'sequence-set');
}
