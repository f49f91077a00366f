/**
 * One shape for every answer that refuses a client command — a parse failure, a literal the
 * gateway will not read, a session-gate or restricted-policy verdict — and one way to write it.
 * ImapConnection.refuse() is the only caller of refusalLine(): it also counts the refusals that
 * end a session when they repeat (limits.ts MAX_BAD_COMMANDS, MAX_REFUSED_COMMANDS).
 */
import { safeText } from './auth-replies.js';

export interface Refusal {
  /** BAD: the command was not understood or not valid here. NO: understood, and not done. */
  status: 'NO' | 'BAD';
  /** RFC 5530 response code without brackets (NOPERM, LIMIT, TOOBIG …), or null. */
  code: string | null;
  /** One line for the person; control characters are removed when written. */
  text: string;
  /** Set for restricted-session refusals: the coded reason the audit row is kept under. */
  reason?: string;
}

/** `tag status [code] text`; `*` when the command had no readable tag. */
export function refusalLine(tag: string | null, refusal: Refusal): string {
  const code = refusal.code ? `[${refusal.code}] ` : '';
  return `${tag ?? '*'} ${refusal.status} ${code}${safeText(refusal.text)}`;
}

/** How a restricted-policy refusal is shown: it says the login is restricted, so the person knows why. */
export function asRestrictedAnswer(refusal: Refusal): Refusal {
  return { ...refusal, text: `Restricted login: ${refusal.text}` };
}
