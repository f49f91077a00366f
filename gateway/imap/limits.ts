/**
 * Every limit of the IMAP gateway, in one place, each with its unit and the reason for it.
 * A limit that a client can hit ends in a refusal or a closed stream, never in unbounded memory
 * (fail closed, as imapflow's `lib/handler/limits.js` does).
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Bytes in one CRLF-terminated client line, CRLF included (the text between two literals counts
 * as its own line). RFC 9051 §4 sets no maximum; RFC 7162 §4 asks servers to accept at least
 * 8192 octets. 64 KiB leaves room for long UID sets and SEARCH programs.
 */
export const MAX_LINE_BYTES = 64 * KiB;

/**
 * Bytes in one literal that the gateway collects in memory (every literal except an APPEND or
 * REPLACE message, which is streamed): mailbox names, passwords, search strings, metadata values.
 */
export const MAX_LITERAL_BYTES = 64 * KiB;

/**
 * Bytes the gateway holds for one command: every line plus every collected literal. It bounds the
 * memory of a command built from many literals, each under MAX_LITERAL_BYTES.
 */
export const MAX_COMMAND_BYTES = 256 * KiB;

/**
 * Default size in bytes of an APPEND message (a streamed literal). The running value comes from
 * configuration (`MAX_MESSAGE_SIZE`) and is passed in; it is also what APPENDLIMIT advertises
 * (RFC 7889).
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 50 * MiB;

/**
 * Nesting depth of parenthesized lists in one command. Real commands nest three or four deep
 * (SEARCH OR/NOT groups, FETCH items with header lists); Dovecot CVE-2026-27857 showed what
 * unbounded nesting does to memory.
 */
export const MAX_LIST_DEPTH = 16;

/** Literals in one command. SEARCH and LOGIN use a few; more suggests an attempt to exhaust memory. */
export const MAX_LITERALS_PER_COMMAND = 32;

/**
 * Commands refused as BAD (syntax, unknown, framing) before the connection is closed, as
 * smtp-server's "too many unrecognized commands". A confused client loops; a probing one stops here.
 */
export const MAX_BAD_COMMANDS = 20;

/**
 * Commands a restricted session may have refused by its policy (NO [NOPERM], over budget) before the
 * connection is closed. No mail client needs more than a few (a user pressing Delete); a script that
 * floods refusals is cut off here, and its refusals are audited as a few counted rows.
 */
export const MAX_REFUSED_COMMANDS = 20;

/** Milliseconds between the aggregated audit rows of a long session's refusals (refusal-audit.ts). */
export const REFUSAL_AUDIT_FLUSH_MS = 5 * 60_000;

/**
 * Largest non-synchronizing literal `{n+}` accepted before login: LITERAL- (RFC 7888 §5), which
 * IMAP4rev2 includes (RFC 9051 §4.3), so that nobody can make us read much without logging in.
 * After login the gateway offers LITERAL+: a larger `{n+}` than a limit allows is read and dropped
 * (never held), then refused, and the stream stays in step.
 */
export const LITERAL_MINUS_MAX = 4096;

/**
 * Strings longer than this are re-emitted upstream as literals, not quoted strings, which keeps
 * the lines we write short; it is a choice of form, not a security limit.
 */
export const MAX_QUOTED_STRING_BYTES = 1024;

/**
 * Bytes of one upstream response line delivered as a single piece. Longer lines (a SEARCH result
 * over a large mailbox) are passed on in pieces of this size so memory stays bounded.
 */
export const MAX_RESPONSE_LINE_PIECE_BYTES = 64 * KiB;

/**
 * Inactivity timeout before authentication, in milliseconds. RFC 9051 §5.4 sets its 30-minute
 * minimum only for authenticated sessions and lets servers use a shorter timer before login, against
 * denial of service; a minute is ample for a client that already has its credentials.
 */
export const UNAUTHENTICATED_IDLE_TIMEOUT_MS = 60_000;

/**
 * Inactivity timeout after authentication, in milliseconds. RFC 9051 §5.4 requires at least 30
 * minutes; clients re-issue IDLE every 29 minutes (RFC 2177 §3), so one extra minute of slack keeps
 * a slow re-IDLE from racing the timer.
 */
export const AUTHENTICATED_IDLE_TIMEOUT_MS = 31 * 60_000;

/**
 * Client bytes the gateway holds unread before it stops reading the client socket. Commands are run
 * one at a time, so a client that pipelines hundreds of them waits in its own socket, not in our memory.
 */
export const MAX_UNREAD_CLIENT_BYTES = 256 * KiB;

/** Milliseconds a closing connection may take to flush its last lines before it is cut. */
export const CLOSE_FLUSH_TIMEOUT_MS = 5_000;

/**
 * Relayed bytes queued for one socket before the other side is paused (a FETCH to a slow client, an
 * APPEND to the store). Node's default mark (16 KiB) would pause on nearly every 64 KiB read and stall
 * the pipe; 1 MiB keeps it full while bounding memory per session.
 */
export const MAX_PENDING_OUTPUT_BYTES = 1024 * KiB;
