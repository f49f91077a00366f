import { PosternError } from '../errors.js';

/**
 * Login names: lowercase letters, digits, ".", "_", "-", "@". Never "*" (Dovecot's master-user separator:
 * "alice*master" would let a name pick the upstream identity) and never control characters.
 */
const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export function normalizeUsername(raw: string): string {
  return raw.trim().toLowerCase();
}

export function assertValidUsername(name: string): void {
  if (!USERNAME.test(name)) throw new PosternError('USERNAME_INVALID', { context: { length: name.length } });
}
