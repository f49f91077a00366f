/**
 * What a client calls itself — IMAP ID's name and version (RFC 2971), SMTP's EHLO/HELO name (RFC 5321
 * §4.1.1.1) — made fit to print. The value is the client's choice and ends up in login notices, the
 * "seen clients" of app passwords and Options → Security, so it is never trusted: control characters and
 * the Unicode replacement of bad UTF-8 are dropped (they say nothing a person could read) and at most
 * CLIENT_NAME_MAX characters are kept. One function for every front, so they cannot drift apart.
 */

/** Characters (code points) kept of a client's name. */
export const CLIENT_NAME_MAX = 80;

/** The parts that name something, cleaned and joined by a space ("Thunderbird 128.3"), or null when none does. */
export function clientName(...parts: Array<string | null | undefined>): string | null {
  const kept = parts.map(cleanPart).filter((p): p is string => p !== null);
  if (!kept.length) return null;
  // By code point, so a cut never leaves half a surrogate pair.
  return Array.from(kept.join(' ')).slice(0, CLIENT_NAME_MAX).join('');
}

/** One part without control characters or U+FFFD, trimmed; null when nothing is left. */
export function cleanPart(value: string | null | undefined): string | null {
  const cleaned = (value ?? '').replace(/[\p{Cc}\uFFFD]/gu, '').trim();
  return cleaned === '' ? null : cleaned;
}
