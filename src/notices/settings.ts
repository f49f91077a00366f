/**
 * Which logins notify (Options → Security). Stored as the kinds turned *off*, so every kind — and any kind
 * added later — notifies until the user says otherwise. 'recovery' is a recovery list (an `otp` login
 * marked recovery), chosen apart from ordinary one-time lists.
 */
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { loginNoticeSettings } from '../db/schema.js';

export const NOTICE_KINDS = ['password', 'otp', 'recovery', 'sms', 'totp', 'app'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const NOTICE_KIND_NAMES: Record<NoticeKind, string> = {
  password: 'Alternate passwords',
  otp: 'One-time codes',
  recovery: 'Recovery list (lost phone)',
  sms: 'SMS passwords',
  totp: 'Authenticator app',
  app: 'App passwords, from an address or program they were not used from before',
};

/** The kinds that notify for this user. */
export async function noticeKindsOf(ctx: Pick<AppContext, 'db'>, userId: number): Promise<Set<NoticeKind>> {
  const [row] = await ctx.db.select({ muted: loginNoticeSettings.mutedKinds }).from(loginNoticeSettings).where(eq(loginNoticeSettings.userId, userId));
  const muted = new Set(row?.muted ?? []);
  return new Set(NOTICE_KINDS.filter((k) => !muted.has(k)));
}

/** Sets the kinds that notify; anything not listed (unknown names are ignored) is turned off. */
export async function setNoticeKinds(ctx: Pick<AppContext, 'db'>, userId: number, on: readonly string[]): Promise<Set<NoticeKind>> {
  const muted = NOTICE_KINDS.filter((k) => !on.includes(k));
  await ctx.db
    .insert(loginNoticeSettings)
    .values({ userId, mutedKinds: muted })
    .onConflictDoUpdate({ target: loginNoticeSettings.userId, set: { mutedKinds: muted, updatedAt: sql`now()` } });
  return new Set(NOTICE_KINDS.filter((k) => !muted.includes(k)));
}
