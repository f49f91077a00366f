/**
 * Formats of the secrets Postern generates. Both use Crockford's base32 alphabet (no I, L, O, U), so a code
 * read off paper or typed on a kiosk survives the usual confusions: input is upper-cased, O→0, I/L→1, and
 * spaces and dashes are ignored.
 *
 *  - One-time code: 10 symbols = 50 bits, shown as "K7QM2-9XD4R". Online guessing is bounded by throttling,
 *    and a list of 100 codes leaves 2^50/100 ≈ 2^43 guesses per hit.
 *  - App password: 28 symbols = 140 bits (≥ 128), shown as seven groups of four for pasting into a client.
 */
import crypto from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const OTP_CODE_SYMBOLS = 10;
export const APP_PASSWORD_SYMBOLS = 28;

function randomSymbols(count: number): string {
  // 32 symbols: the low five bits of a uniformly random byte are uniform, so no modulo bias.
  const bytes = crypto.randomBytes(count);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

function group(symbols: string, size: number): string {
  return symbols.match(new RegExp(`.{1,${size}}`, 'g'))!.join('-');
}

/** Canonical form of a typed code, or null when it cannot be one of ours (so no lookup is needed). */
export function canonicalizeGenerated(input: string, symbols: number): string | null {
  const s = input.replace(/[\s-]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== symbols) return null;
  for (const ch of s) if (!ALPHABET.includes(ch)) return null;
  return s;
}

/** A new one-time code as printed ("K7QM2-9XD4R"). */
export function generateOtpCode(): string {
  return group(randomSymbols(OTP_CODE_SYMBOLS), 5);
}

/** A new app password as shown once ("ABCD-EFGH-…", 140 bits). */
export function generateAppPassword(): string {
  return group(randomSymbols(APP_PASSWORD_SYMBOLS), 4);
}
