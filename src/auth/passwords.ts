/**
 * Passwords people choose: argon2id. The default cost is RFC 9106 §4's second recommendation
 * (64 MiB, t=3, p=4), about 130 ms per hash on a 2-core machine; tests lower it through ARGON2_* settings.
 * A hash made at a lower cost is upgraded on the next successful login (`needsRehash`).
 */
import argon2 from 'argon2';

export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const PRODUCTION_ARGON2: Argon2Cost = { memoryCost: 65536, timeCost: 3, parallelism: 4 };

export class PasswordHasher {
  constructor(readonly cost: Argon2Cost = PRODUCTION_ARGON2) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.cost });
  }

  /** Constant-time inside argon2; false (never a throw) for a malformed hash. */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, { ...this.cost });
    } catch {
      return true;
    }
  }
}
