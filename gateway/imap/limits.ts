/**
 * Every limit of the IMAP gateway, in one place, each with its unit and the reason for it (the login
 * answers' texts are in auth-replies.ts; framing constants that are not limits, such as the response
 * reader's literal-marker hold-back, stay with their code).
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

/** Milliseconds the store may take from connect to the end of our login (greeting, ID, AUTHENTICATE). */
export const UPSTREAM_LOGIN_TIMEOUT_MS = 15_000;

/** Bytes of one store line during login before the store is taken for broken. */
export const MAX_UPSTREAM_LOGIN_LINE_BYTES = 64 * KiB;

/** Greeted store connections kept ready; two cover a burst of reconnecting clients without holding login processes. */
export const UPSTREAM_POOL_SIZE = 2;

/** Well under the store's pre-login timeout (Dovecot: 3 minutes), so a pooled connection is never cut as we take it. */
export const UPSTREAM_POOL_MAX_AGE_MS = 30_000;

/** Store sessions parked for reuse (session-cache.ts); each holds a store process, a few dozen cover a busy gateway. */
export const MAX_PARKED_SESSIONS = 64;

/** Milliseconds a parked-to-be session may take to answer its UNSELECT before it is cut instead. */
export const PARK_UNSELECT_TIMEOUT_MS = 5_000;

/** Bytes per store read (read-buffers.ts): Node's own default read size. */
export const READ_BUFFER_BYTES = 64 * KiB;

/**
 * Read buffers kept for reuse across all sessions (1 MiB). An open store connection holds one more, for
 * its next read; an idle one touches only the pages its small reads land in.
 */
export const MAX_FREE_READ_BUFFERS = 16;

/** ID parameter pairs accepted from a client (RFC 2971 §3.3: at most 30). */
export const MAX_ID_PAIRS = 30;

/*
 * Before login the gateway holds far less per connection: an unauthenticated client has shown nothing,
 * and a flood of them must not pin memory (issue #11: an unfinished ID with four 64 KiB literals held
 * ~244 KiB per connection). After login the limits above apply.
 */

/** Bytes in one client line before login: a LOGIN with a 1024-character password fits with room to spare. */
export const PRE_AUTH_MAX_LINE_BYTES = 8 * KiB;

/** Bytes in one literal before login (a password in UTF-8 is at most 4 KiB: 1024 characters). */
export const PRE_AUTH_MAX_LITERAL_BYTES = 4 * KiB;

/** Bytes of one command before login, lines and literals together. */
export const PRE_AUTH_MAX_COMMAND_BYTES = 8 * KiB;

/** Client bytes held unread before login before the socket is paused. */
export const PRE_AUTH_MAX_UNREAD_BYTES = 16 * KiB;

/**
 * Logins presented (LOGIN, or AUTHENTICATE with credentials) on one connection; the next one gets
 * `* BYE`. A client with the right password needs one; guessing has to reconnect, and meet the
 * connection caps and the throttle.
 */
export const MAX_LOGIN_ATTEMPTS_PER_CONNECTION = 3;
