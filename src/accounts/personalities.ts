/**
 * Personalities: the names and addresses a user sends as, each with an optional Mobile number (stored as
 * E.164). Exactly one is the user's default — the schema's partial unique index allows at most one, and
 * every function here keeps at least one — and SMS codes go to the default's mobile number as it is at
 * send time.
 */
import { and, asc, eq } from 'drizzle-orm';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import type { Db, Tx } from '../db/client.js';
import { personalities, provenAddresses } from '../db/schema.js';
import { releaseAddressIfUnused } from './address-proofs.js';
import { normalizeAddress } from './addresses.js';
import { PosternError } from '../errors.js';
import { smsRefusalForNumber } from '../sms/phone.js';

export type Personality = typeof personalities.$inferSelect;

/**
 * Validates a mobile number written with its country code ("+44 7911 123456", "0044…" is not accepted)
 * and returns it in E.164 ("+447911123456"). Throws MOBILE_INVALID, also for premium-rate, landline and
 * other non-mobile numbers (src/sms/phone.ts), with a sentence saying which.
 */
export function normalizeMobile(raw: string): string {
  const trimmed = raw.trim();
  const parsed = trimmed.startsWith('+') ? parsePhoneNumberFromString(trimmed) : undefined;
  if (!parsed?.isValid()) throw new PosternError('MOBILE_INVALID');
  const notMobile = smsRefusalForNumber(parsed.number);
  if (notMobile) throw new PosternError('MOBILE_INVALID', { message: notMobile });
  return parsed.number;
}

/** The last two digits, the only part of a number that appears in audit rows and on screen. */
export function mobileHint(e164: string | null): string | null {
  return e164 ? e164.slice(-2) : null;
}

const EMAIL = /^[^\s@<>()",;]{1,64}@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

export function normalizeEmail(raw: string): string {
  const email = raw.trim();
  if (!isEmailAddress(email)) throw new PosternError('EMAIL_INVALID');
  return email;
}

/** Whether `value` (already trimmed) has the shape of an email address. */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

/**
 * An address, or '' for "none yet": a user created with a login name that is not an address has no
 * address to put on their default personality, and must still be able to save its name and Mobile number.
 * (Sending as the login name needs no personality: the SMTP sender policy owns it when it is an address.)
 */
export function normalizeOptionalEmail(raw: string): string {
  return raw.trim() === '' ? '' : normalizeEmail(raw);
}

export interface NewPersonality {
  userId: number;
  name: string;
  /** An email address, or '' for none yet (see normalizeOptionalEmail). */
  email: string;
  mobile?: string | null;
  /** The user's first personality is always the default. */
  isDefault?: boolean;
  actorUserId?: number | null;
}

/** Creates a personality; inside `tx` when given (user creation). */
export async function createPersonality(ctx: AppContext, input: NewPersonality, tx?: Tx): Promise<Personality> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new PosternError('INVALID_INPUT', { message: 'A personality needs a name (at most 100 characters).' });
  const email = normalizeOptionalEmail(input.email);
  const mobile = input.mobile ? normalizeMobile(input.mobile) : null;
  const write = async (t: Tx) => {
    if (email) await assertNotOthers(t, input.userId, email);
    const existing = await t.select({ id: personalities.id }).from(personalities).where(eq(personalities.userId, input.userId)).limit(1);
    const makeDefault = input.isDefault === true || existing.length === 0;
    if (makeDefault) await t.update(personalities).set({ isDefault: false }).where(eq(personalities.userId, input.userId));
    const [row] = await t
      .insert(personalities)
      .values({ userId: input.userId, name, email, mobile, isDefault: makeDefault })
      .returning();
    if (mobile) await auditMobileChange(t, row!, null, input.actorUserId);
    return row!;
  };
  return tx ? write(tx) : ctx.db.transaction(write);
}

export async function listPersonalities(ctx: AppContext, userId: number): Promise<Personality[]> {
  return ctx.db.select().from(personalities).where(eq(personalities.userId, userId)).orderBy(asc(personalities.id));
}

/** The user's default personality (null only for a user that has none, which createUser prevents). */
export async function getDefaultPersonality(ctx: Pick<AppContext, 'db'>, userId: number): Promise<Personality | null> {
  const [row] = await ctx.db
    .select()
    .from(personalities)
    .where(and(eq(personalities.userId, userId), eq(personalities.isDefault, true)));
  return row ?? null;
}

async function requireOwned(db: Db | Tx, userId: number, personalityId: number): Promise<Personality> {
  const [row] = await db
    .select()
    .from(personalities)
    .where(and(eq(personalities.id, personalityId), eq(personalities.userId, userId)));
  if (!row) throw new PosternError('PERSONALITY_NOT_FOUND', { context: { personalityId } });
  return row;
}

/** Makes one of the user's personalities the default (and the others not). */
export async function setDefaultPersonality(ctx: AppContext, userId: number, personalityId: number): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await requireOwned(tx, userId, personalityId);
    // Two statements: the partial unique index is checked row by row, so clear first, then set.
    await tx.update(personalities).set({ isDefault: false }).where(eq(personalities.userId, userId));
    await tx.update(personalities).set({ isDefault: true }).where(eq(personalities.id, personalityId));
    await audit(tx, { event: 'personality.changed', userId, details: { personalityId, change: 'default' } });
  });
}

/**
 * Sets or clears (null) a personality's mobile number. Audited as `personality.mobile-changed` with the
 * last two digits only.
 */
export async function setMobile(
  ctx: AppContext,
  input: { userId: number; personalityId: number; mobile: string | null; actorUserId?: number | null },
): Promise<Personality> {
  const mobile = input.mobile && input.mobile.trim() ? normalizeMobile(input.mobile) : null;
  return ctx.db.transaction(async (tx) => {
    const before = await requireOwned(tx, input.userId, input.personalityId);
    const [row] = await tx.update(personalities).set({ mobile }).where(eq(personalities.id, input.personalityId)).returning();
    if (before.mobile !== mobile) await auditMobileChange(tx, row!, before.mobile, input.actorUserId);
    return row!;
  });
}

/** Changes name and email address ('' leaves the personality without one). */
export async function updatePersonality(
  ctx: AppContext,
  input: { userId: number; personalityId: number; name: string; email: string },
): Promise<Personality> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new PosternError('INVALID_INPUT', { message: 'A personality needs a name (at most 100 characters).' });
  const email = normalizeOptionalEmail(input.email);
  return ctx.db.transaction(async (tx) => {
    const before = await requireOwned(tx, input.userId, input.personalityId);
    if (email) await assertNotOthers(tx, input.userId, email);
    const [row] = await tx.update(personalities).set({ name, email }).where(eq(personalities.id, input.personalityId)).returning();
    if (normalizeAddress(before.email) !== normalizeAddress(email)) await releaseAddressIfUnused(tx, input.userId, before.email);
    await audit(tx, { event: 'personality.changed', userId: input.userId, details: { personalityId: input.personalityId, change: 'details' } });
    return row!;
  });
}

/** Deletes a personality that is not the default. */
export async function deletePersonality(ctx: AppContext, userId: number, personalityId: number): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const row = await requireOwned(tx, userId, personalityId);
    if (row.isDefault) throw new PosternError('PERSONALITY_IS_DEFAULT');
    await tx.delete(personalities).where(eq(personalities.id, personalityId));
    await releaseAddressIfUnused(tx, userId, row.email);
    await audit(tx, { event: 'personality.changed', userId, details: { personalityId, change: 'deleted' } });
  });
}

/** One address, one user: an address proven by someone else cannot be put on a personality. */
async function assertNotOthers(db: Db | Tx, userId: number, email: string): Promise<void> {
  const [row] = await db.select({ userId: provenAddresses.userId }).from(provenAddresses).where(eq(provenAddresses.address, normalizeAddress(email)));
  if (row && row.userId !== userId) throw new PosternError('ADDRESS_TAKEN');
}

async function auditMobileChange(tx: Tx, p: Personality, before: string | null, actorUserId?: number | null) {
  await audit(tx, {
    event: 'personality.mobile-changed',
    userId: p.userId,
    actorUserId: actorUserId ?? null,
    details: { personalityId: p.id, isDefault: p.isDefault, before: mobileHint(before), after: mobileHint(p.mobile) },
  });
}
