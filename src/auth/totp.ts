/**
 * The arithmetic of authenticator apps: TOTP as RFC 6238 defines it with the parameters every app
 * supports by default (HMAC-SHA-1, 6 digits, 30-second steps from the Unix epoch), HOTP's dynamic
 * truncation (RFC 4226 §5.3), the RFC 4648 base32 the secret is shown in, and the `otpauth://` URI a QR
 * code carries (Google Authenticator's "Key Uri Format"). Pure functions: no database, no clock of its
 * own (the caller passes the time), so the RFC's test vectors run in one line each.
 *
 * node:crypto's HMAC does the cryptography; the rest is twenty lines, fewer than a dependency would add.
 */
import crypto from 'node:crypto';

export const TOTP_DIGITS = 6;
export const TOTP_STEP_SECONDS = 30;
/** RFC 6238 §5.2: accept one step either side, for a phone's clock that is a little off. */
export const TOTP_DRIFT_STEPS = 1;
/** 160 bits, the shared-secret length RFC 4226 §4 (R6) recommends. */
export const TOTP_SECRET_BYTES = 20;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function generateTotpSecret(): Buffer {
  return crypto.randomBytes(TOTP_SECRET_BYTES);
}

/** RFC 4648 §6 base32, without padding (authenticator apps accept it either way). */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Base32 as people type it: any case, spaces and dashes ignored; null when it is not base32. */
export function base32Decode(text: string): Buffer | null {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (!clean || !/^[A-Z2-7]+$/.test(clean)) return null;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    value = (value << 5) | BASE32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** "JBSW Y3DP EHPK 3PXP …": the secret for typing by hand, in groups of four. */
export function groupedSecret(secret: Buffer): string {
  return base32Encode(secret).match(/.{1,4}/g)!.join(' ');
}

/** The time step a moment falls in (RFC 6238 §4.2: T = floor((now − T0) / X), T0 = 0). */
export function timeStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_STEP_SECONDS);
}

/** HOTP (RFC 4226 §5.3) of an 8-byte big-endian counter, as a zero-padded decimal string. */
export function hotp(secret: Buffer, counter: number, digits = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac('sha1', secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, '0');
}

/** The code an app shows at `at`. */
export function totpCode(secret: Buffer, at: Date, digits = TOTP_DIGITS): string {
  return hotp(secret, timeStep(at), digits);
}

/**
 * The time step whose code `typed` is, among now ± TOTP_DRIFT_STEPS and later than `lastUsedStep`, or
 * null. Every candidate is computed and compared in constant time, whatever matched, so the time taken
 * says nothing about which step (if any) was right. When several steps match (a 10^-6 coincidence), the
 * latest wins, so the code cannot be used a second time through an earlier step.
 */
export function matchTotpStep(secret: Buffer, typed: string, at: Date, lastUsedStep: number | null): number | null {
  const code = typed.replace(/\s/g, '');
  // Exactly TOTP_DIGITS bytes whatever was typed (timingSafeEqual needs equal lengths; é is two bytes).
  const given = Buffer.alloc(TOTP_DIGITS);
  Buffer.from(code, 'utf8').copy(given, 0, 0, TOTP_DIGITS);
  const wellFormed = new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code);
  const now = timeStep(at);
  let found: number | null = null;
  for (let step = now - TOTP_DRIFT_STEPS; step <= now + TOTP_DRIFT_STEPS; step++) {
    const same = crypto.timingSafeEqual(Buffer.from(hotp(secret, step)), given);
    if (same && wellFormed && (lastUsedStep === null || step > lastUsedStep)) found = step;
  }
  return found;
}

/**
 * The `otpauth://totp/…` URI an authenticator app reads from the QR code. The label is "Issuer:account"
 * (percent-encoded, the colon literal) and the issuer is repeated as a parameter, as the Key Uri Format
 * asks; the defaults (SHA1, 6, 30) are spelled out because some apps ignore missing ones badly.
 */
export function otpauthUri(input: { issuer: string; account: string; secret: Buffer }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.account)}`;
  const params = new URLSearchParams({
    secret: base32Encode(input.secret),
    issuer: input.issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
