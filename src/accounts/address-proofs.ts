/**
 * Making an address someone's (see addresses.ts for what owning means). Each way of proving ends in
 * `proveAddress`; the primary key of proven_addresses makes "one address, one user" hold even when two
 * proofs race. An address the user no longer has on any personality (nor as login name) is released, so
 * it can be proven by its next owner.
 */
import { and, eq, sql } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { Db, Tx } from '../db/client.js';
import { personalities, provenAddresses, users } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { looksLikeAddress, normalizeAddress } from './addresses.js';

export type ProofKind = (typeof provenAddresses.$inferInsert)['provenBy'];

/**
 * Records that `userId` owns `address`. Idempotent for the same user; ADDRESS_TAKEN when another user
 * owns it (nothing changes then).
 */
export async function proveAddress(
  db: Db | Tx,
  input: { userId: number; address: string; by: ProofKind; actorUserId?: number | null },
): Promise<void> {
  const address = normalizeAddress(input.address);
  if (!looksLikeAddress(address)) throw new PosternError('EMAIL_INVALID');
  const inserted = await db
    .insert(provenAddresses)
    .values({ address, userId: input.userId, provenBy: input.by })
    .onConflictDoNothing({ target: provenAddresses.address })
    .returning({ address: provenAddresses.address });
  if (inserted.length) {
    await audit(db, { event: 'address.proven', userId: input.userId, actorUserId: input.actorUserId ?? null, details: { by: input.by } });
    return;
  }
  const [owner] = await db.select({ userId: provenAddresses.userId }).from(provenAddresses).where(eq(provenAddresses.address, address));
  if (owner?.userId !== input.userId) throw new PosternError('ADDRESS_TAKEN', { context: { userId: input.userId } });
}

/** Whether `address` is proven for `userId` (exactly; used to show a personality as verified). */
export async function isProvenFor(db: Db | Tx, userId: number, address: string): Promise<boolean> {
  if (!address) return false;
  const rows = await db
    .select({ a: provenAddresses.address })
    .from(provenAddresses)
    .where(and(eq(provenAddresses.address, normalizeAddress(address)), eq(provenAddresses.userId, userId)));
  return rows.length > 0;
}

/** Drops the user's proof of `address` when no personality of theirs and not their login name uses it. */
export async function releaseAddressIfUnused(tx: Tx, userId: number, address: string): Promise<void> {
  const a = normalizeAddress(address);
  if (!a) return;
  const stillUsed = await tx
    .select({ id: personalities.id })
    .from(personalities)
    .where(and(eq(personalities.userId, userId), sql`lower(${personalities.email}) = ${a}`))
    .limit(1);
  if (stillUsed.length) return;
  const [user] = await tx.select({ username: users.username }).from(users).where(eq(users.id, userId));
  if (user && normalizeAddress(user.username) === a) return;
  await tx.delete(provenAddresses).where(and(eq(provenAddresses.address, a), eq(provenAddresses.userId, userId)));
}
