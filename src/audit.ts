/**
 * The audit log: append-only events, queryable per user and per group. Details hold non-secret facts
 * only — never a password, code, token or full phone number.
 */
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './db/client.js';
import { auditEvents } from './db/schema.js';

export const auditEventNames = [
  'login.succeeded',
  'login.failed',
  'login.throttled',
  /** A reconnect inside a 1-hour one-time or SMS window: a session, not a new use. */
  'login.resumed',
  'login.recovery-used',
  /** A login notice went to the owner's verified default address (src/notices/). */
  'login.notice-sent',
  /** The owner answered a notice: "This was me" or "This wasn't me" (the login was revoked). */
  'login.notice-answered',
  'login.notice-settings-changed',
  'altlogin.created',
  'altlogin.revoked',
  'password.changed',
  'user.created',
  'user.disabled',
  'personality.mobile-changed',
  'personality.changed',
  'address.proven',
  'address.confirmation-sent',
  'mail.submitted',
  'mail.refused',
  'sms.sent',
  'sms.failed',
  'sms.refused',
  'credits.changed',
  'group.changed',
  'group.member-added',
  'group.member-removed',
  'imap.command-blocked',
  'web.request-refused',
  'session.ended',
] as const;
export type AuditEventName = (typeof auditEventNames)[number];

export interface AuditInput {
  event: AuditEventName;
  userId?: number | null;
  groupId?: number | null;
  actorUserId?: number | null;
  ip?: string | null;
  service?: string | null;
  details?: Record<string, unknown>;
}

export type AuditEvent = typeof auditEvents.$inferSelect;

/** Appends one event; pass a transaction to make it part of the change it records. */
export async function audit(db: Db | Tx, input: AuditInput): Promise<void> {
  await db.insert(auditEvents).values({
    event: input.event,
    userId: input.userId ?? null,
    groupId: input.groupId ?? null,
    actorUserId: input.actorUserId ?? null,
    ip: input.ip ?? null,
    service: input.service ?? null,
    details: input.details ?? {},
  });
}

export interface AuditQuery {
  userId?: number;
  groupId?: number;
  events?: AuditEventName[];
  limit?: number;
}

/** Newest first. */
export async function listAuditEvents(db: Db, q: AuditQuery): Promise<AuditEvent[]> {
  const where: SQL[] = [];
  if (q.userId !== undefined) where.push(eq(auditEvents.userId, q.userId));
  if (q.groupId !== undefined) where.push(eq(auditEvents.groupId, q.groupId));
  if (q.events?.length) where.push(inArray(auditEvents.event, q.events));
  return db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(q.limit ?? 100);
}
