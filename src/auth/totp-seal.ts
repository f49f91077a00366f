/**
 * Sealing of authenticator-app secrets. Unlike every other secret Postern keeps, a TOTP secret must be
 * read back (the server computes the codes), so it cannot be hashed: it is stored encrypted with
 * AES-256-GCM under a key derived from SECRET_KEY for this purpose only. The associated data names what
 * the sealed value belongs to (the user, or the web session of an enrolment), so a sealed value copied
 * to another row or another session does not open.
 */
import crypto from 'node:crypto';

type SealPurpose = 'totp-secret' | 'totp-enrolment';

function keyFor(secretKey: Buffer, purpose: SealPurpose): Buffer {
  return crypto.createHmac('sha256', secretKey).update(`postern ${purpose} seal v1`).digest();
}

/** base64url(iv ‖ tag ‖ ciphertext). */
export function seal(secretKey: Buffer, purpose: SealPurpose, aad: string, plain: Buffer): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', keyFor(secretKey, purpose), iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The plain bytes, or null when the value was tampered with, sealed for something else, or garbage. */
export function unseal(secretKey: Buffer, purpose: SealPurpose, aad: string, sealed: string): Buffer | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return null;
    const decipher = crypto.createDecipheriv('aes-256-gcm', keyFor(secretKey, purpose), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch {
    return null;
  }
}

/** A TOTP login's secret as stored in alt_logins.totp_secret, bound to its owner. */
export function sealTotpSecret(secretKey: Buffer, userId: number, secret: Buffer): string {
  return seal(secretKey, 'totp-secret', `user:${userId}`, secret);
}

export function unsealTotpSecret(secretKey: Buffer, userId: number, sealed: string): Buffer | null {
  return unseal(secretKey, 'totp-secret', `user:${userId}`, sealed);
}
