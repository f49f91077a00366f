/**
 * HMAC-SHA-256 under the server key (SECRET_KEY) for secrets the system generates (app passwords, one-time
 * codes, SMS codes) and for auth-cache keys. A keyed hash lets a login find its row with one index probe
 * instead of trying a list of argon2 hashes, and a stolen database alone does not let anyone test guesses.
 * Each use names a purpose, so a value hashed for one purpose never matches another.
 */
import crypto from 'node:crypto';

export type KeyedHashPurpose = 'app-password' | 'otp-code' | 'sms-code' | 'auth-cache' | 'address-confirmation' | 'login-notice' | 'login-notice-link';

/** Hex HMAC-SHA-256(key, purpose NUL part1 NUL part2 …). Parts must not contain NUL (secrets never do). */
export function keyedHash(key: Buffer, purpose: KeyedHashPurpose, ...parts: Array<string | number>): string {
  const mac = crypto.createHmac('sha256', key);
  mac.update(purpose);
  for (const part of parts) mac.update('\0').update(String(part));
  return mac.digest('hex');
}

/** Constant-time comparison of two hex digests (false when the lengths differ). */
export function equalDigests(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}
