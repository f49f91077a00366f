/**
 * Allow-list filter for capabilities from upstream, wherever they appear: `* CAPABILITY …`, and the
 * `[CAPABILITY …]` code of the greeting, of PREAUTH and of tagged OK responses (RFC 9051 §7.2.2,
 * §7.1). We advertise only what our parser handles and our policy lets through; anything unknown
 * is dropped, so a new upstream extension stays hidden until someone decides otherwise.
 */
import { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';

export interface CapabilityFilterOptions {
  /** Largest APPEND the gateway accepts; caps APPENDLIMIT. */
  maxMessageSize?: number;
  /** A restricted session: hide extensions whose only use is a command it may not run. */
  restricted?: boolean;
}

/**
 * Capabilities passed through as they are. Each is either read-only or a command the table
 * knows and the policies judge: ESEARCH/ESORT/CONTEXT (RFC 4731, 5267), MOVE and UIDPLUS (refused
 * in restricted sessions, but advertised: a client without MOVE falls back to COPY + STORE
 * \Deleted + EXPUNGE, which would leave duplicates when only the last steps are refused).
 */
const PASS = new Set([
  'IMAP4REV1', 'IMAP4REV2', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UIDPLUS', 'MOVE', 'CONDSTORE',
  'QRESYNC', 'ESEARCH', 'ESORT', 'SORT', 'SORT=DISPLAY', 'CHILDREN', 'UNSELECT', 'SPECIAL-USE',
  'CREATE-SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS', 'LIST-MYRIGHTS', 'QUOTA', 'ACL', 'BINARY',
  'WITHIN', 'SEARCHRES', 'STATUS=SIZE', 'SAVEDATE', 'I18NLEVEL=1', 'MULTISEARCH', 'OBJECTID',
  'PREVIEW', 'FUZZY', 'CONTEXT=SEARCH', 'CONTEXT=SORT',
  // RFC 3502: streamed message by message, each judged (and charged) as the first; a refusal of any
  // makes the store's command fail, so it keeps none of them (append-stream.ts cancel).
  'MULTIAPPEND',
]);

/** Families passed through: THREAD algorithms, ACL rights letters, quota resources (RFC 9208). */
const PASS_PREFIXES = ['THREAD=', 'RIGHTS=', 'QUOTA=RES-'];

/**
 * Passed only to unrestricted sessions. METADATA: a restricted session can read entries but not
 * set them, and clients use METADATA mainly to store settings, so it is cleaner to hide it than
 * to advertise it and fail every SETMETADATA. QUOTASET (RFC 9208) announces SETQUOTA.
 */
const PASS_UNRESTRICTED = new Set(['METADATA', 'METADATA-SERVER', 'QUOTASET']);

// Dropped by omission, named here for the reader: COMPRESS=*, STARTTLS, LOGINDISABLED, AUTH=*,
// SASL-IR, LOGIN-REFERRALS, UNAUTHENTICATE (the gateway runs login and owns the stream),
// LITERAL-/LITERAL+ (we offer LITERAL+ ourselves, below), CATENATE, URLAUTH, UTF8=* (not parsed),
// NOTIFY, I18NLEVEL=2 (commands we do not know), and every X- extension.
// Why CATENATE, URLAUTH and NOTIFY stay hidden (docs/imap-security.md, "Extensions"):
// - CATENATE: the store assembles the message from URLs it resolves itself, so neither the restricted
//   rule nor the byte budget could judge what is appended without fetching every part first.
// - URLAUTH: GENURLAUTH mints bearer URLs that outlive the session (a restricted login could hand out
//   lasting read access) and RESETKEY voids the owner's; command-table.ts answers them BAD.
// - NOTIFY: Dovecot offers it, but it makes the store send STATUS/LIST/FETCH for any mailbox between
//   commands; relaying that needs the rights filter on those responses, the session cache to treat the
//   session as changed and LOGOUT/drain to cope with responses outside a command. Not done yet.

/** Filters an upstream capability list for the client (after login). Adds LITERAL+ and APPENDLIMIT=n. */
export function filterCapabilities(upstream: readonly string[], options: CapabilityFilterOptions = {}): string[] {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  let appendLimit = maxMessageSize;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const cap of upstream) {
    const upper = cap.toUpperCase();
    const limit = /^APPENDLIMIT(?:=(\d+))?$/.exec(upper);
    if (limit) {
      // RFC 7889: without a value the limit is per mailbox; ours still applies to all of them.
      if (limit[1] !== undefined) appendLimit = Math.min(appendLimit, Number(limit[1]));
      continue;
    }
    const pass = PASS.has(upper) || PASS_PREFIXES.some((p) => upper.startsWith(p) && upper.length > p.length)
      || (!options.restricted && PASS_UNRESTRICTED.has(upper));
    if (pass && !seen.has(upper)) {
      seen.add(upper);
      out.push(cap);
    }
  }
  // After login the reader takes {n+} of any size within the limits, whatever upstream offers
  // (RFC 7888 §4): the gateway re-emits every literal in the form the store accepts.
  out.push('LITERAL+', `APPENDLIMIT=${appendLimit}`);
  return out;
}

const UNTAGGED = /^\* CAPABILITY(?: (.*))?$/is;
const CODE = /^(\S+ (?:OK|NO|BAD|PREAUTH|BYE) \[)CAPABILITY(?: ([^\]]*))?(\].*)$/is;

/** True when a response line carries a capability list (untagged CAPABILITY or the code). */
export function carriesCapabilities(text: Buffer): boolean {
  const line = text.toString('latin1');
  return UNTAGGED.test(line) || CODE.test(line);
}

/**
 * Rewrites a complete response line (CRLF removed) so any capability list in it is filtered;
 * other lines are returned unchanged. A line that arrived in pieces cannot be rewritten: the relay
 * must treat a partial first piece that carries capabilities as fatal.
 */
export function filterCapabilityText(text: Buffer, options: CapabilityFilterOptions = {}): Buffer {
  const line = text.toString('latin1');
  const split = (list: string | undefined) => (list ?? '').split(' ').filter((c) => c !== '');
  const untagged = UNTAGGED.exec(line);
  if (untagged) return Buffer.from(`* CAPABILITY ${filterCapabilities(split(untagged[1]), options).join(' ')}`, 'latin1');
  const code = CODE.exec(line);
  if (code) return Buffer.from(`${code[1]}CAPABILITY ${filterCapabilities(split(code[2]), options).join(' ')}${code[3]}`, 'latin1');
  return text;
}
