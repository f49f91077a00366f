/**
 * SMS abuse limits. SMS pumping (attackers triggering texts to premium numbers) costs real money, so every
 * send passes these checks before a credit is reserved. Counts come from sms_messages, shared by all
 * instances; the caller holds per-user and per-group advisory locks so parallel requests cannot all pass
 * the same check. Time is the database's clock, one clock for every instance.
 */
import { and, count, eq, gt, inArray, ne, sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Tx } from '../db/client.js';
import { groupMembers, smsMessages } from '../db/schema.js';
import type { ErrorCode } from '../errors.js';
import { callingCodeOf } from './phone.js';

export type SmsRefusalReason = 'cooldown' | 'user-hourly-limit' | 'group-daily-limit' | 'country-blocked';

export interface SmsRefusal {
  reason: SmsRefusalReason;
  code: ErrorCode;
  retryAfterSeconds?: number;
}

type LimitConfig = Pick<
  Config,
  'SMS_COOLDOWN_SECONDS' | 'SMS_MAX_PER_USER_PER_HOUR' | 'SMS_MAX_PER_GROUP_PER_DAY' | 'SMS_ALLOWED_COUNTRIES'
>;

/** The destination check, which needs no database. */
export function checkDestination(config: LimitConfig, to: string): SmsRefusal | null {
  if (!config.SMS_ALLOWED_COUNTRIES) return null;
  const code = callingCodeOf(to);
  if (code && config.SMS_ALLOWED_COUNTRIES.includes(code)) return null;
  return { reason: 'country-blocked', code: 'SMS_COUNTRY_BLOCKED' };
}

const now = sql`clock_timestamp()`;
const secondsUntil = (start: unknown, window: string) =>
  sql<string>`ceil(extract(epoch from (${start} + interval '${sql.raw(window)}' - ${now})))`;

/** The first limit this send would break, or null. */
export async function checkSendLimits(
  tx: Tx,
  config: LimitConfig,
  input: { userId: number; loginId: number; groupId: number | null },
): Promise<SmsRefusal | null> {
  if (config.SMS_COOLDOWN_SECONDS > 0) {
    // A send the provider refused outright cost nothing and reached no phone: the person may fix their
    // number and retry at once.
    const [row] = await tx
      .select({ wait: sql<string | null>`ceil(${config.SMS_COOLDOWN_SECONDS} - extract(epoch from (${now} - max(${smsMessages.createdAt}))))` })
      .from(smsMessages)
      .where(and(eq(smsMessages.userId, input.userId), eq(smsMessages.loginId, input.loginId), ne(smsMessages.status, 'rejected')));
    const wait = row?.wait == null ? 0 : Number(row.wait);
    if (wait > 0) return { reason: 'cooldown', code: 'SMS_COOLDOWN', retryAfterSeconds: wait };
  }
  const hourAgo = sql`${now} - interval '1 hour'`;
  const [user] = await tx
    .select({ n: count(), wait: secondsUntil(sql`min(${smsMessages.createdAt})`, '1 hour') })
    .from(smsMessages)
    .where(and(eq(smsMessages.userId, input.userId), gt(smsMessages.createdAt, hourAgo)));
  if (Number(user?.n ?? 0) >= config.SMS_MAX_PER_USER_PER_HOUR)
    return { reason: 'user-hourly-limit', code: 'SMS_RATE_LIMITED', retryAfterSeconds: Math.max(1, Number(user!.wait)) };
  if (input.groupId !== null) {
    const dayAgo = sql`${now} - interval '1 day'`;
    const members = tx.select({ id: groupMembers.userId }).from(groupMembers).where(eq(groupMembers.groupId, input.groupId));
    const [group] = await tx
      .select({ n: count(), wait: secondsUntil(sql`min(${smsMessages.createdAt})`, '1 day') })
      .from(smsMessages)
      .where(and(inArray(smsMessages.userId, members), gt(smsMessages.createdAt, dayAgo)));
    if (Number(group?.n ?? 0) >= config.SMS_MAX_PER_GROUP_PER_DAY)
      return { reason: 'group-daily-limit', code: 'SMS_RATE_LIMITED', retryAfterSeconds: Math.max(1, Number(group!.wait)) };
  }
  return null;
}
