/**
 * Which addresses belong to a user — the one rule behind every direction: who may appear as a sender
 * (envelope, From:, Sender:), which From: choices web compose offers, whose INBOX the dev MTA delivers
 * to, and where notices may go. A user owns exactly their *proven* addresses (table proven_addresses,
 * one owner per address): asserted by an operator, confirmed by a mailed link, or given by a group
 * administrator in a domain the operator assigned to the group (src/accounts/address-proofs.ts).
 * Merely typing an address into a personality proves nothing.
 *
 * A subaddress (`alice+news@example.com`, RFC 5233; separator SUBADDRESS_SEPARATOR) belongs to whoever
 * owns `alice@example.com`, unless someone owns the subaddress itself.
 * Comparison ignores case, as every real mail system does for the domain and nearly all do for the local
 * part; an address that differs from an owned one in anything else is someone else's.
 */
import { and, eq, inArray, not } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import type { Config } from '../config.js';
import { provenAddresses, users } from '../db/schema.js';

/** Lowercase and trimmed; the form used for comparison, never for display. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** A deliberately simple shape check: one "@", something on each side, no spaces. */
export function looksLikeAddress(value: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(value);
}

/**
 * The address without its subaddress tag (`alice+tag@d` → `alice@d`), or null when it has none. The
 * first separator counts (RFC 5233 §1: the tag may itself contain the separator).
 */
export function baseOfSubaddress(address: string, separator: Config['SUBADDRESS_SEPARATOR']): string | null {
  if (separator === 'none') return null;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const i = local.indexOf(separator);
  if (at < 0 || i <= 0) return null;
  return `${local.slice(0, i)}${address.slice(at)}`;
}

/** The forms of `address` that can make it someone's: itself, then its base address. */
function candidates(ctx: AppContext, address: string): string[] {
  const a = normalizeAddress(address);
  const base = baseOfSubaddress(a, ctx.config.SUBADDRESS_SEPARATOR);
  return base ? [a, base] : [a];
}

/** Every proven address of the user, normalised (subaddresses of these are owned too). */
export async function listOwnedAddresses(ctx: AppContext, userId: number): Promise<Set<string>> {
  const rows = await ctx.db.select({ address: provenAddresses.address }).from(provenAddresses).where(eq(provenAddresses.userId, userId));
  return new Set(rows.map((r) => r.address));
}

/** The id of the user who owns `address` (exactly, or as a subaddress of theirs), or null. */
export async function findOwnerOfAddress(ctx: AppContext, address: string): Promise<number | null> {
  if (!looksLikeAddress(address.trim())) return null;
  const forms = candidates(ctx, address);
  const rows = await ctx.db
    .select({ address: provenAddresses.address, userId: provenAddresses.userId })
    .from(provenAddresses)
    .where(inArray(provenAddresses.address, forms));
  // The exact address wins over the base: someone may own alice+shop@ separately from alice@.
  for (const form of forms) {
    const row = rows.find((r) => r.address === form);
    if (row) return row.userId;
  }
  return null;
}

/** True when `address` is one the user owns. */
export async function ownsAddress(ctx: AppContext, userId: number, address: string): Promise<boolean> {
  return (await findOwnerOfAddress(ctx, address)) === userId;
}

/** The mailbox (an enabled user's upstream name) that owns `address`, by the same rule; [] for strangers. */
export async function findMailboxesOwning(ctx: AppContext, address: string): Promise<string[]> {
  const owner = await findOwnerOfAddress(ctx, address);
  if (owner === null) return [];
  const rows = await ctx.db
    .select({ mailbox: users.upstreamUser })
    .from(users)
    .where(and(eq(users.id, owner), not(users.disabled)));
  return rows.map((r) => r.mailbox);
}
