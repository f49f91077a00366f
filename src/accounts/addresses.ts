/**
 * Which addresses belong to a user — the one rule behind both directions: who may appear as the SMTP
 * envelope sender, and whose INBOX the dev MTA delivers to. A user owns:
 *  - the email address of any of their personalities (that is what the personalities are for), and
 *  - their login name, when the login name is itself an email address (`alice@example.com`), so an account
 *    made with only a login name can still send as that name.
 * Not `<upstreamUser>@<some domain>`: Postern knows no mail domain, and guessing one would let a user
 * whose mailbox is `bob` claim `bob@` of every domain.
 * Comparison ignores case, as every real mail system does for the domain and nearly all do for the local
 * part; an address that differs from an owned one in anything else is someone else's.
 */
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { personalities, users } from '../db/schema.js';

/** Lowercase and trimmed; the form used for comparison, never for display. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** A deliberately simple shape check: one "@", something on each side, no spaces. */
export function looksLikeAddress(value: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(value);
}

/** Every address the user may send as, normalised. */
export async function listOwnedAddresses(ctx: AppContext, userId: number): Promise<Set<string>> {
  const owned = new Set<string>();
  const rows = await ctx.db.select({ email: personalities.email }).from(personalities).where(eq(personalities.userId, userId));
  for (const r of rows) owned.add(normalizeAddress(r.email));
  const [user] = await ctx.db.select({ username: users.username }).from(users).where(eq(users.id, userId));
  if (user && looksLikeAddress(user.username)) owned.add(normalizeAddress(user.username));
  return owned;
}

/** True when `address` is one the user owns. */
export async function ownsAddress(ctx: AppContext, userId: number, address: string): Promise<boolean> {
  return (await listOwnedAddresses(ctx, userId)).has(normalizeAddress(address));
}

/** The mailboxes (enabled users' upstream names) that own `address`, by the same rule; [] for strangers. */
export async function findMailboxesOwning(ctx: AppContext, address: string): Promise<string[]> {
  const a = normalizeAddress(address);
  if (!looksLikeAddress(a)) return [];
  const byPersonality = await ctx.db
    .selectDistinct({ mailbox: users.upstreamUser })
    .from(personalities)
    .innerJoin(users, eq(users.id, personalities.userId))
    .where(sql`lower(${personalities.email}) = ${a} and not ${users.disabled}`);
  const byLogin = await ctx.db
    .select({ mailbox: users.upstreamUser })
    .from(users)
    .where(sql`${users.username} = ${a} and not ${users.disabled}`);
  return [...new Set([...byPersonality, ...byLogin].map((r) => r.mailbox))];
}
