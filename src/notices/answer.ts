/**
 * Answering a login notice from its link. No session is needed: the link itself — signed, single use,
 * 7 days — proves its holder reads the owner's verified mailbox, and the owner is often not signed in
 * where they read mail (or can only sign in with the very login they want gone). The worst a holder can
 * do is revoke one alternative login, which takes access away and never gives any.
 * Opening the link (GET) only shows the notice; the answer is a POST from that page.
 */
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { revokeAltLogin } from '../accounts/alt-logins.js';
import { audit } from '../audit.js';
import { equalDigests } from '../auth/keyed-hash.js';
import { nowSql } from '../clock.js';
import type { AppContext } from '../context.js';
import { altLogins, loginNotices, loginNoticeUses } from '../db/schema.js';
import { readNoticeLink, nonceHash, type NoticeAnswer } from './link.js';

export type NoticeLinkRefusal = 'NOTICE_LINK_INVALID' | 'NOTICE_LINK_EXPIRED' | 'NOTICE_LINK_USED';

export interface NoticeView {
  noticeId: number;
  userId: number;
  loginId: number;
  label: string;
  kind: string;
  revoked: boolean;
  answer: NoticeAnswer;
  lastUse: { at: Date; ip: string | null; client: string | null; method: string } | null;
  uses: number;
}

export type NoticeLinkCheck = { ok: true; notice: NoticeView } | { ok: false; code: NoticeLinkRefusal };

function now(ctx: Pick<AppContext, 'clock'>): Date {
  return ctx.clock ? ctx.clock() : new Date();
}

/**
 * Each link works once, and "This was me" does not use up "This wasn't me": someone who clicked the
 * wrong button, or who learns later that it was not them, can still revoke from the same mail.
 */
function changesMind(given: NoticeAnswer | null, now: NoticeAnswer): boolean {
  return given === 'mine' && now === 'revoke';
}

/** What the link's page shows; a refusal says which of tampered, expired or already answered. */
export async function checkNoticeLink(ctx: AppContext, token: string): Promise<NoticeLinkCheck> {
  const link = readNoticeLink(ctx.secretKey, token);
  if (!link) return { ok: false, code: 'NOTICE_LINK_INVALID' };
  if (link.expires * 1000 <= now(ctx).getTime()) return { ok: false, code: 'NOTICE_LINK_EXPIRED' };
  const [row] = await ctx.db.select().from(loginNotices).where(eq(loginNotices.id, link.noticeId));
  if (!row || !equalDigests(row.tokenHash, nonceHash(ctx.secretKey, link.nonce))) return { ok: false, code: 'NOTICE_LINK_INVALID' };
  if (row.answeredAt && !changesMind(row.answer, link.answer)) return { ok: false, code: 'NOTICE_LINK_USED' };
  if (row.expiresAt.getTime() <= now(ctx).getTime()) return { ok: false, code: 'NOTICE_LINK_EXPIRED' };
  const [login] = await ctx.db.select().from(altLogins).where(eq(altLogins.id, row.loginId));
  if (!login) return { ok: false, code: 'NOTICE_LINK_INVALID' };
  const uses = await ctx.db.select().from(loginNoticeUses).where(eq(loginNoticeUses.noticeId, row.id)).orderBy(loginNoticeUses.id);
  const last = uses.at(-1);
  return {
    ok: true,
    notice: {
      noticeId: row.id,
      userId: row.userId,
      loginId: login.id,
      label: login.label,
      kind: login.kind,
      revoked: login.revokedAt !== null,
      answer: link.answer,
      lastUse: last ? { at: last.at, ip: last.ip, client: last.client, method: last.method } : null,
      uses: uses.length,
    },
  };
}

/**
 * Uses the link up and does what it says: "mine" records it; "revoke" (also after "mine") revokes the
 * login through the one revoke path (which ends its sessions everywhere: IMAP BYE, SMTP 421, web signed
 * out). If revoking fails, the notice is put back as it was, so nothing is half done.
 */
export async function answerNotice(ctx: AppContext, token: string, ip: string | null): Promise<NoticeLinkCheck> {
  const checked = await checkNoticeLink(ctx, token);
  if (!checked.ok) return checked;
  const n = checked.notice;
  const [before] = await ctx.db.select({ answeredAt: loginNotices.answeredAt, answer: loginNotices.answer }).from(loginNotices).where(eq(loginNotices.id, n.noticeId));
  const [taken] = await ctx.db
    .update(loginNotices)
    .set({ answeredAt: sql`${nowSql(ctx)}`, answer: n.answer })
    .where(
      and(
        eq(loginNotices.id, n.noticeId),
        n.answer === 'revoke' ? or(isNull(loginNotices.answeredAt), eq(loginNotices.answer, 'mine')) : isNull(loginNotices.answeredAt),
        gt(loginNotices.expiresAt, nowSql(ctx)),
      ),
    )
    .returning({ id: loginNotices.id });
  if (!taken) return { ok: false, code: 'NOTICE_LINK_USED' };
  if (n.answer === 'revoke') {
    try {
      await revokeAltLogin(ctx, { loginId: n.loginId, userId: n.userId, actorUserId: n.userId });
    } catch (err) {
      await ctx.db
        .update(loginNotices)
        .set({ answeredAt: before?.answeredAt ?? null, answer: before?.answer ?? null })
        .where(and(eq(loginNotices.id, n.noticeId), eq(loginNotices.answer, 'revoke')));
      throw err;
    }
  }
  await audit(ctx.db, { event: 'login.notice-answered', userId: n.userId, ip, service: 'web', details: { noticeId: n.noticeId, loginId: n.loginId, answer: n.answer } });
  return { ok: true, notice: { ...n, revoked: n.revoked || n.answer === 'revoke' } };
}
