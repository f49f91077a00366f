/**
 * Who may send as which address — the rules every front (SMTP submission, web compose) goes through.
 * Ownership itself is src/accounts/addresses.ts (proven addresses and their subaddresses); this file
 * applies it to the envelope sender and to the message's From:/Sender: fields, checked at the end of
 * DATA because a mail reader shows the header, not the envelope.
 */
import type { AppContext } from '../context.js';
import { listOwnedAddresses, looksLikeAddress, ownsAddress } from '../accounts/addresses.js';
import { getDefaultPersonality } from '../accounts/personalities.js';
import { readAddresses, readHeaderFields, type OriginatorHeader } from './originator-fields.js';
import { refusals, type SubmitFailure } from './result.js';

/**
 * The proven addresses the user may send as (the From choices in compose), the default personality's
 * first when it is proven. Subaddresses of these are allowed too but not listed.
 */
export async function sendableAddresses(ctx: AppContext, userId: number): Promise<string[]> {
  const owned = [...(await listOwnedAddresses(ctx, userId))].sort();
  const preferred = (await getDefaultPersonality(ctx, userId))?.email.toLowerCase();
  return preferred && owned.includes(preferred) ? [preferred, ...owned.filter((a) => a !== preferred)] : owned;
}

/** The envelope sender (MAIL FROM): null when allowed, else the refusal. */
export async function authorizeSender(ctx: AppContext, userId: number, address: string): Promise<SubmitFailure | null> {
  if (!address) return refusals.nullSender();
  if (!looksLikeAddress(address)) return refusals.senderNotOwned(address);
  return (await ownsAddress(ctx, userId, address)) ? null : refusals.senderNotOwned(address);
}

/**
 * Checks From: and Sender: (each at most once; every address in them owned by the user). Returns the
 * message to send — with a From: made from the envelope sender when it had none (RFC 6409 §8.1) — or
 * the refusal.
 */
export async function checkOriginatorFields(
  ctx: AppContext,
  userId: number,
  envelopeFrom: string,
  message: Buffer,
): Promise<{ ok: true; message: Buffer } | SubmitFailure> {
  const { fields } = readHeaderFields(message);
  const from = fields.filter((f) => f.name === 'from');
  const sender = fields.filter((f) => f.name === 'sender');
  if (from.length > 1) return refusals.headerRepeated('From');
  if (sender.length > 1) return refusals.headerRepeated('Sender');
  for (const [header, field] of [['From', from[0]], ['Sender', sender[0]]] as const) {
    if (!field) continue;
    const refused = await checkField(ctx, userId, header, field.value);
    if (refused) return refused;
  }
  if (sender[0] && (readAddresses(sender[0].value) as { addresses: string[] }).addresses.length !== 1) return refusals.senderNotSingle();
  if (from.length) return { ok: true, message };
  return { ok: true, message: Buffer.concat([Buffer.from(`From: <${envelopeFrom}>\r\n`), message]) };
}

async function checkField(ctx: AppContext, userId: number, header: OriginatorHeader, value: string): Promise<SubmitFailure | null> {
  const reading = readAddresses(value);
  if (!reading.ok) return reading.problem === 'ambiguous' ? refusals.headerAmbiguous(header) : refusals.headerWithoutAddress(header);
  for (const address of reading.addresses) {
    if (!(await ownsAddress(ctx, userId, address))) return refusals.headerNotOwned(header, address);
  }
  return null;
}
