/**
 * `sendLoginCode`: the one way a login code leaves Postern. In order:
 *  1. the destination is the default personality's Mobile number as it is now (not when the login was made);
 *  2. abuse limits are checked, then a credit is reserved (group first, then personal) and the message row
 *     written, all in one transaction under per-group and per-user advisory locks, so parallel requests
 *     cannot slip past a limit or overdraw;
 *  3. the provider is called outside the transaction (a slow provider must not hold locks);
 *  4. a provider failure refunds the credit exactly once and becomes a domain error the person can act on.
 * Audit rows record every refusal, send and failure with the reason — never the code, never the number.
 */
import { and, eq, sql } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { ensureCreditAccount } from '../credits/accounts.js';
import { refundSmsCredit, reserveSmsCredit } from '../credits/sms-charges.js';
import { recordSms } from '../metrics/record.js';
import { personalities, smsMessages } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { checkDestination, checkSendLimits, type SmsRefusal } from './limits.js';
import { choosePayer, explainNoCredits, findMemberGroup, type MemberGroup } from './payer.js';
import { callingCodeOf, hintForNumber, smsRefusalForNumber } from './phone.js';
import { SmsSendError, type SmsSendResult } from './sender.js';

export interface SendLoginCodeInput {
  userId: number;
  /** The SMS alternative login being used: the cool-down is per login. */
  loginId: number;
  /** The code to send; it appears only in the SMS body. */
  code: string;
  ip?: string;
}

export interface SentLoginCode {
  smsMessageId: number;
  /** Last two digits of the destination, for "sent to the number ending 42". */
  sentToHint: string;
}

/** Renders the SMS text from SMS_LOGIN_TEMPLATE. */
export function renderLoginCodeMessage(template: string, code: string): string {
  return template.replaceAll('{code}', code);
}

/**
 * Sends a login code by SMS and charges one credit. Throws PosternError SMS_NO_MOBILE, SMS_COUNTRY_BLOCKED,
 * SMS_COOLDOWN / SMS_RATE_LIMITED (context.retryAfterSeconds), SMS_NO_CREDITS, SMS_INVALID_NUMBER or
 * SMS_PROVIDER_DOWN; after the last two the credit has been refunded.
 */
export async function sendLoginCode(ctx: AppContext, input: SendLoginCodeInput): Promise<SentLoginCode> {
  const { userId, loginId, ip } = input;
  const [personality] = await ctx.db
    .select({ mobile: personalities.mobile })
    .from(personalities)
    .where(and(eq(personalities.userId, userId), eq(personalities.isDefault, true)));
  const group = await findMemberGroup(ctx.db, userId);
  const refuse = async (reason: string, error: PosternError, details: Record<string, unknown> = {}): Promise<never> => {
    await audit(ctx.db, { event: 'sms.refused', userId, groupId: group?.id, ip, details: { reason, loginId, ...details } });
    throw error;
  };

  const to = personality?.mobile;
  if (!to) return refuse('no-mobile', new PosternError('SMS_NO_MOBILE'));
  const toHint = hintForNumber(to);
  const blocked = checkDestination(ctx.config, to);
  if (blocked) return refuse(blocked.reason, refusalError(blocked, to), { toHint });
  // A number stored before non-mobile numbers were refused still gets no SMS (premium-rate pumping).
  const notMobile = smsRefusalForNumber(to);
  if (notMobile)
    return refuse('not-mobile', new PosternError('SMS_INVALID_NUMBER', { message: `${notMobile} Set a mobile number on your default personality.` }), { toHint });

  const reserved = await reserve(ctx, { userId, loginId, to, group });
  if ('refusal' in reserved) return refuse(reserved.refusal.reason, refusalError(reserved.refusal, to), { toHint });
  if ('noCredits' in reserved) return refuse('no-credits', new PosternError('SMS_NO_CREDITS', { message: explainNoCredits(group) }), { toHint });

  const { smsMessageId, payer } = reserved;
  let sent: SmsSendResult;
  try {
    sent = await ctx.sms.send({ to, body: renderLoginCodeMessage(ctx.config.SMS_LOGIN_TEMPLATE, input.code) });
  } catch (e) {
    return failSend(ctx, { smsMessageId, userId, loginId, ip, groupId: group?.id, toHint, error: e });
  }
  recordSms('sent');
  // Only the provider call is guarded above: once it succeeded the SMS is on its way and must stay paid,
  // even if recording its id below fails.
  await ctx.db
    .update(smsMessages)
    .set({ providerSid: sent.providerSid, status: sent.status, updatedAt: new Date() })
    .where(eq(smsMessages.id, smsMessageId));
  await audit(ctx.db, {
    event: 'sms.sent',
    userId,
    groupId: group?.id,
    ip,
    details: { smsMessageId, loginId, provider: ctx.sms.name, payer, toHint },
  });
  return { smsMessageId, sentToHint: toHint };
}

/** The provider refused or could not be reached: mark the message, refund once, audit, explain. */
async function failSend(
  ctx: AppContext,
  input: { smsMessageId: number; userId: number; loginId: number; ip?: string; groupId?: number; toHint: string; error: unknown },
): Promise<never> {
  const { smsMessageId, userId, loginId, toHint } = input;
  const failure = input.error instanceof SmsSendError ? input.error : new SmsSendError('unavailable', 'SMS provider error', { cause: input.error });
  await ctx.db
    .update(smsMessages)
    .set({ status: 'rejected', errorCode: failure.providerCode ?? failure.kind, updatedAt: new Date() })
    .where(eq(smsMessages.id, smsMessageId));
  recordSms('failed');
  const refunded = await refundSmsCredit(ctx.db, { smsMessageId, reason: `send failed: ${failure.kind}` });
  if (refunded) recordSms('refunded');
  await audit(ctx.db, {
    event: 'sms.failed',
    userId,
    groupId: input.groupId,
    ip: input.ip,
    details: { smsMessageId, loginId, provider: ctx.sms.name, reason: failure.kind, providerCode: failure.providerCode, refunded, toHint },
  });
  ctx.log.warn({ smsMessageId, kind: failure.kind, providerCode: failure.providerCode }, 'SMS send failed; credit refunded');
  throw new PosternError(failure.kind === 'invalid-number' ? 'SMS_INVALID_NUMBER' : 'SMS_PROVIDER_DOWN', { cause: failure });
}

type Reservation =
  | { smsMessageId: number; payer: 'group' | 'personal'; accountId: number }
  | { refusal: SmsRefusal }
  | { noCredits: true };

/** Limits, payer and reservation in one transaction; nothing is written when it refuses. */
async function reserve(
  ctx: AppContext,
  input: { userId: number; loginId: number; to: string; group: MemberGroup | null },
): Promise<Reservation> {
  const { userId, loginId, to, group } = input;
  return ctx.db.transaction(async (tx): Promise<Reservation> => {
    // Always group before user: one lock order, no deadlocks.
    if (group) await tx.execute(sql`select pg_advisory_xact_lock(hashtext('postern:sms:group'), ${group.id}::int)`);
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('postern:sms:user'), ${userId}::int)`);
    const refusal = await checkSendLimits(tx, ctx.config, { userId, loginId, groupId: group?.id ?? null });
    if (refusal) return { refusal };
    const groupAccount = group?.allowSms ? await ensureCreditAccount(tx, { groupId: group.id }) : null;
    const personalAccount = await ensureCreditAccount(tx, { userId });
    // The balances were read under the locks above; the guarded debit still refuses to overdraw, and a
    // payer that lost its last credit meanwhile (an adjustment) is asked again with that fact.
    let credits = { groupHasCredits: (groupAccount?.balance ?? 0) > 0, personalHasCredits: personalAccount.balance > 0 };
    for (;;) {
      const { payer } = choosePayer(group, credits);
      if (payer === 'none') return { noCredits: true };
      const accountId = payer === 'group' ? groupAccount!.id : personalAccount.id;
      const [message] = await tx
        .insert(smsMessages)
        .values({ userId, loginId, accountId, toNumber: to, provider: ctx.sms.name, status: 'reserved' })
        .returning({ id: smsMessages.id });
      if ((await reserveSmsCredit(tx, { accountId, userId, smsMessageId: message!.id })) !== null) return { smsMessageId: message!.id, payer, accountId };
      // Not this payer: the row would claim a send that never happened.
      await tx.delete(smsMessages).where(eq(smsMessages.id, message!.id));
      credits = payer === 'group' ? { ...credits, groupHasCredits: false } : { ...credits, personalHasCredits: false };
    }
  });
}

function refusalError(refusal: SmsRefusal, to: string): PosternError {
  const context = refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {};
  const wait = refusal.retryAfterSeconds !== undefined ? formatWait(refusal.retryAfterSeconds) : '';
  switch (refusal.reason) {
    case 'cooldown':
      return new PosternError('SMS_COOLDOWN', { message: `A code was sent a moment ago: you can request a new code in ${wait}.`, context });
    case 'user-hourly-limit':
      return new PosternError('SMS_RATE_LIMITED', { message: `Too many codes were sent to you this hour: you can request a new code in ${wait}.`, context });
    case 'group-daily-limit':
      return new PosternError('SMS_RATE_LIMITED', {
        message: `Your business or family has reached its daily limit of SMS codes: you can request a new code in ${wait}.`,
        context,
      });
    case 'country-blocked':
      return new PosternError('SMS_COUNTRY_BLOCKED', {
        message: `Codes cannot be sent to numbers with country code +${callingCodeOf(to) ?? '?'}. Set a Mobile number from another country on your default personality.`,
      });
  }
}

/** "40 s", "12 min", "3 h": what a person reads on the login page. */
export function formatWait(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 2 * 3600) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.ceil(seconds / 3600)} h`;
}
