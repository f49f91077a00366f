/**
 * Proving an address by a link mailed to it: whoever can read that mailbox and is logged in as the user
 * who asked may make the address theirs. The token is 32 random bytes; only its keyed hash is stored
 * (a stolen database confirms nothing). A link works once, for 24 hours (judged by the database clock),
 * and only for the user who asked: anyone else opening it changes nothing and does not use it up.
 * The mail goes out through the same outgoing MTA as every submitted message.
 */
import crypto from 'node:crypto';
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import MailComposer from 'nodemailer/lib/mail-composer';
import { audit } from '../audit.js';
import { keyedHash } from '../auth/keyed-hash.js';
import { nowSql } from '../clock.js';
import type { AppContext } from '../context.js';
import { addressConfirmations, personalities, provenAddresses } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { relayMessage } from '../submission/relay.js';
import { outgoingMta } from '../submission/submit-message.js';
import { systemSender } from '../submission/system-mail.js';
import { isProvenFor, proveAddress } from './address-proofs.js';
import { normalizeAddress } from './addresses.js';


const LINK_LIFETIME = sql`interval '24 hours'`;
/** Someone pressing "send again" repeatedly must not turn Postern into a mail bomb. */
const RESEND_INTERVAL = sql`interval '60 seconds'`;

/** The page that confirms; it needs the user's session, so the link alone is not enough. */
export function confirmationUrl(ctx: AppContext, token: string): string {
  return `${ctx.config.PUBLIC_URL}/options/personalities/confirm?token=${encodeURIComponent(token)}`;
}

/**
 * Mails a confirmation link to the personality's address. Throws ADDRESS_ALREADY_PROVEN, ADDRESS_TAKEN,
 * CONFIRMATION_TOO_SOON, or CONFIRMATION_NOT_SENT when the outgoing MTA did not take the mail (then no
 * link exists).
 */
export async function sendAddressConfirmation(ctx: AppContext, input: { userId: number; personalityId: number }): Promise<void> {
  const [p] = await ctx.db
    .select()
    .from(personalities)
    .where(and(eq(personalities.id, input.personalityId), eq(personalities.userId, input.userId)));
  if (!p) throw new PosternError('PERSONALITY_NOT_FOUND');
  if (!p.email) throw new PosternError('EMAIL_INVALID', { message: 'This personality has no address to confirm.' });
  const address = normalizeAddress(p.email);
  if (await isProvenFor(ctx.db, input.userId, address)) throw new PosternError('ADDRESS_ALREADY_PROVEN');
  const [owner] = await ctx.db.select({ userId: provenAddresses.userId }).from(provenAddresses).where(eq(provenAddresses.address, address));
  if (owner) throw new PosternError('ADDRESS_TAKEN');
  const upstream = outgoingMta(ctx);
  if (!upstream) throw new PosternError('CONFIRMATION_NOT_SENT');

  const token = crypto.randomBytes(32).toString('base64url');
  const recent = await ctx.db
    .select({ id: addressConfirmations.id })
    .from(addressConfirmations)
    .where(and(eq(addressConfirmations.userId, input.userId), eq(addressConfirmations.address, address), gt(addressConfirmations.createdAt, sql`${nowSql(ctx)} - ${RESEND_INTERVAL}`)))
    .limit(1);
  if (recent.length) throw new PosternError('CONFIRMATION_TOO_SOON');
  const [row] = await ctx.db
    .insert(addressConfirmations)
    .values({
      userId: input.userId,
      address,
      tokenHash: keyedHash(ctx.secretKey, 'address-confirmation', token),
      createdAt: sql`${nowSql(ctx)}`,
      expiresAt: sql`${nowSql(ctx)} + ${LINK_LIFETIME}`,
    })
    .returning({ id: addressConfirmations.id });

  const message = await new MailComposer({
    from: `Postern <${systemSender(ctx)}>`,
    to: p.email,
    subject: 'Confirm your address for Postern',
    headers: { 'Auto-Submitted': 'auto-generated' },
    text: [
      `Someone — probably you — added ${p.email} to their Postern account as "${p.name}".`,
      '',
      'To confirm that this address is yours, open this link while logged in to Postern (it works once, for 24 hours):',
      '',
      confirmationUrl(ctx, token),
      '',
      'If this was not you, ignore this message: nothing changes until the link is opened.',
    ].join('\n'),
  })
    .compile()
    .build();
  const sent = await relayMessage(upstream, { from: systemSender(ctx), to: [p.email] }, message);
  if (!sent.ok || sent.rejected.length) {
    await ctx.db.delete(addressConfirmations).where(eq(addressConfirmations.id, row!.id));
    ctx.log.warn({ code: 'CONFIRMATION_NOT_SENT', userId: input.userId, reason: sent.ok ? 'refused' : sent.failure.code }, 'confirmation link not sent');
    throw new PosternError('CONFIRMATION_NOT_SENT');
  }
  await audit(ctx.db, { event: 'address.confirmation-sent', userId: input.userId, details: { personalityId: p.id } });
}

/** The address a link would confirm, for the confirming page; null when the link is no good for this user. */
export async function findPendingConfirmation(ctx: AppContext, userId: number, token: string): Promise<string | null> {
  const [row] = await ctx.db
    .select({ address: addressConfirmations.address })
    .from(addressConfirmations)
    .where(liveLink(ctx, userId, token));
  return row?.address ?? null;
}

/**
 * Uses the link up and proves its address for `userId`. CONFIRMATION_INVALID when it was used, expired
 * or is another user's (the other user's link stays usable); ADDRESS_TAKEN when someone proved the
 * address meanwhile.
 */
export async function confirmAddress(ctx: AppContext, input: { userId: number; token: string }): Promise<string> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(addressConfirmations)
      .set({ usedAt: sql`${nowSql(ctx)}` })
      .where(liveLink(ctx, input.userId, input.token))
      .returning({ address: addressConfirmations.address });
    if (!row) throw new PosternError('CONFIRMATION_INVALID');
    await proveAddress(tx, { userId: input.userId, address: row.address, by: 'link', actorUserId: input.userId });
    return row.address;
  });
}

function liveLink(ctx: AppContext, userId: number, token: string) {
  return and(
    eq(addressConfirmations.tokenHash, keyedHash(ctx.secretKey, 'address-confirmation', token.slice(0, 100))),
    eq(addressConfirmations.userId, userId),
    isNull(addressConfirmations.usedAt),
    gt(addressConfirmations.expiresAt, nowSql(ctx)),
  );
}

/** Whether a link for this address is waiting (for "waiting for confirmation" on Options). */
export async function hasPendingConfirmation(ctx: AppContext, userId: number, address: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: addressConfirmations.id })
    .from(addressConfirmations)
    .where(and(eq(addressConfirmations.userId, userId), eq(addressConfirmations.address, normalizeAddress(address)), isNull(addressConfirmations.usedAt), gt(addressConfirmations.expiresAt, nowSql(ctx))))
    .orderBy(desc(addressConfirmations.id))
    .limit(1);
  return rows.length > 0;
}
