/**
 * Twilio delivery reports. Reports can repeat and arrive out of order (a late "sent" after "delivered"),
 * so a terminal status is never overwritten and every change is a guarded UPDATE: a repeated report changes
 * nothing. `failed`, `undelivered` and `canceled` give the credit back, at most once (refundSmsCredit).
 */
import { and, eq, notInArray, ne } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { refundSmsCredit } from '../credits/sms-charges.js';
import { recordSms } from '../metrics/record.js';
import { smsMessages } from '../db/schema.js';
import { hintForNumber } from './phone.js';

/** Statuses after which Twilio sends no further report for a message. */
const TERMINAL = ['delivered', 'undelivered', 'failed', 'canceled', 'rejected'];
/** Terminal statuses for which the carrier did not deliver, so Postern does not charge. */
const REFUNDABLE = new Set(['undelivered', 'failed', 'canceled']);
const KNOWN = new Set(['accepted', 'scheduled', 'queued', 'sending', 'sent', 'read', ...TERMINAL]);

export interface StatusReport {
  messageSid: string;
  status: string;
  errorCode?: string | null;
}

export type StatusOutcome = 'unknown-message' | 'ignored' | 'unchanged' | 'updated' | 'refunded';

/** Applies one delivery report; the outcome says what changed (for logs and tests). */
export async function applyStatusReport(ctx: AppContext, report: StatusReport): Promise<StatusOutcome> {
  const status = report.status.toLowerCase();
  if (!KNOWN.has(status)) return 'ignored';
  const errorCode = report.errorCode?.trim() ? report.errorCode.trim().slice(0, 16) : null;
  const [updated] = await ctx.db
    .update(smsMessages)
    .set({ status, updatedAt: new Date(), ...(errorCode ? { errorCode } : {}) })
    .where(and(eq(smsMessages.providerSid, report.messageSid), ne(smsMessages.status, status), notInArray(smsMessages.status, TERMINAL)))
    .returning({ id: smsMessages.id, userId: smsMessages.userId, loginId: smsMessages.loginId, toNumber: smsMessages.toNumber });
  if (!updated) {
    const [known] = await ctx.db.select({ id: smsMessages.id }).from(smsMessages).where(eq(smsMessages.providerSid, report.messageSid));
    return known ? 'unchanged' : 'unknown-message';
  }
  if (!REFUNDABLE.has(status)) return 'updated';
  const refunded = await refundSmsCredit(ctx.db, { smsMessageId: updated.id, reason: `delivery ${status}` });
  await audit(ctx.db, {
    event: 'sms.failed',
    userId: updated.userId,
    details: {
      smsMessageId: updated.id,
      loginId: updated.loginId,
      reason: status,
      providerCode: errorCode,
      refunded,
      toHint: hintForNumber(updated.toNumber),
    },
  });
  if (refunded) recordSms('refunded');
  return refunded ? 'refunded' : 'updated';
}
