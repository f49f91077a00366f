/**
 * An argon2 verification that always fails, at the same cost as a real one. Unknown users, disabled users
 * and accounts without a password pay it, so their failures take as long as a wrong password (no user
 * enumeration by timing).
 */
import crypto from 'node:crypto';
import type { PasswordHasher } from './passwords.js';

const dummyHashes = new WeakMap<PasswordHasher, Promise<string>>();

/** A hash of a random password at this hasher's cost, made once per hasher. */
function dummyHash(hasher: PasswordHasher): Promise<string> {
  let hash = dummyHashes.get(hasher);
  if (!hash) dummyHashes.set(hasher, (hash = hasher.hash(crypto.randomBytes(32).toString('base64url'))));
  return hash;
}

/** Spends one argon2 verification and returns false. */
export async function dummyVerify(hasher: PasswordHasher, secret: string): Promise<false> {
  await hasher.verify(await dummyHash(hasher), secret);
  return false;
}

/** Makes the dummy hash now, so the first unknown-user login is not faster than the rest. */
export async function warmDummyHash(hasher: PasswordHasher): Promise<void> {
  await dummyHash(hasher);
}
