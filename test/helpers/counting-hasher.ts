/**
 * A production-cost hasher that records the parameters of every hash it verifies. Timing-equality claims
 * ("a wrong X costs what a wrong Y costs") are checked by counting argon2 verifications with this, which
 * a loaded machine cannot disturb; wall-clock checks beside it stay coarse.
 */
import { PRODUCTION_ARGON2, PasswordHasher } from '../../src/auth/passwords.js';

export class CountingHasher extends PasswordHasher {
  /** "argon2id$v=19$m=…,p=…,t=…" of each verified hash, in order. */
  readonly verified: string[] = [];

  constructor() {
    super(PRODUCTION_ARGON2);
  }

  override verify(hash: string, password: string): Promise<boolean> {
    this.verified.push(hash.split('$').slice(1, 4).join('$'));
    return super.verify(hash, password);
  }

  /** The verifications `run` makes. */
  async during(run: () => Promise<unknown>): Promise<string[]> {
    this.verified.length = 0;
    await run();
    return [...this.verified];
  }
}

/** How PRODUCTION_ARGON2 appears in a PHC string, as CountingHasher records it. */
export const PRODUCTION_PARAMS = `argon2id$v=19$m=${PRODUCTION_ARGON2.memoryCost},p=${PRODUCTION_ARGON2.parallelism},t=${PRODUCTION_ARGON2.timeCost}`;
