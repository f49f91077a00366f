/**
 * The answer links of a login notice. A link is `notice.answer.expires.nonce.signature`: the signature is
 * HMAC-SHA-256 under SECRET_KEY over the rest, so a changed id, answer or expiry is refused before the
 * database is asked; the nonce (random, 24 bytes) is what makes it single use — only its keyed hash is
 * stored on the notice row, and answering sets `answered_at` once. Valid for 7 days.
 */
import crypto from 'node:crypto';
import { equalDigests, keyedHash } from '../auth/keyed-hash.js';

export const NOTICE_LINK_DAYS = 7;
export const NOTICE_ANSWERS = ['mine', 'revoke'] as const;
export type NoticeAnswer = (typeof NOTICE_ANSWERS)[number];

export interface NoticeLink {
  noticeId: number;
  answer: NoticeAnswer;
  /** Unix seconds. */
  expires: number;
  nonce: string;
}

export function newNonce(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/** The stored form of a notice's nonce. */
export function nonceHash(key: Buffer, nonce: string): string {
  return keyedHash(key, 'login-notice', nonce);
}

function signature(key: Buffer, l: NoticeLink): string {
  return keyedHash(key, 'login-notice-link', l.noticeId, l.answer, l.expires, l.nonce);
}

export function signNoticeLink(key: Buffer, link: NoticeLink): string {
  return `${link.noticeId}.${link.answer}.${link.expires}.${link.nonce}.${signature(key, link)}`;
}

/** The link's contents when its signature is right (expiry not judged here), else null. */
export function readNoticeLink(key: Buffer, token: string): NoticeLink | null {
  if (token.length > 300) return null;
  const m = /^(\d{1,15})\.(mine|revoke)\.(\d{1,12})\.([A-Za-z0-9_-]{32})\.([0-9a-f]{64})$/.exec(token);
  if (!m) return null;
  const link: NoticeLink = { noticeId: Number(m[1]), answer: m[2] as NoticeAnswer, expires: Number(m[3]), nonce: m[4]! };
  return equalDigests(signature(key, link), m[5]!) ? link : null;
}
