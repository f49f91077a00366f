/**
 * The pre-login state between "authenticator-app password accepted" and "code typed": which TOTP login,
 * the time step it had then (so the note is void once the login is used again), and an expiry. Signed
 * with HMAC under a key derived from SECRET_KEY for this purpose: login ids are sequential, and an
 * unsigned id would let anyone skip the password. Named and flagged like the other cookies (cookies.ts).
 */
import crypto from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { CookiePolicy } from './cookies.js';

/** How long the code page waits after the password. */
export const TOTP_PENDING_SECONDS = 5 * 60;

export interface TotpPending {
  loginId: number;
  /** -1 when the login had never been used. */
  lastStep: number;
  expiresAt: number;
}

function nameOf(policy: CookiePolicy): string {
  return `${policy.secure ? '__Host-' : ''}postern_totp_pending`;
}

function options(policy: CookiePolicy) {
  return { path: '/', httpOnly: true, secure: policy.secure, sameSite: 'Lax' as const };
}

function sign(secretKey: Buffer, payload: string): string {
  const key = crypto.createHmac('sha256', secretKey).update('postern web totp-pending cookie v1').digest();
  return crypto.createHmac('sha256', key).update(payload).digest('base64url');
}

export function writeTotpPendingCookie(c: Context, policy: CookiePolicy, secretKey: Buffer, input: { loginId: number; lastStep: number | null }): void {
  const expiresAt = Date.now() + TOTP_PENDING_SECONDS * 1000;
  const payload = `${input.loginId}.${input.lastStep ?? -1}.${expiresAt}`;
  setCookie(c, nameOf(policy), `${payload}.${sign(secretKey, payload)}`, { ...options(policy), maxAge: TOTP_PENDING_SECONDS });
}

export function readTotpPendingCookie(c: Context, policy: CookiePolicy, secretKey: Buffer): TotpPending | null {
  const raw = getCookie(c, nameOf(policy));
  const m = raw ? /^(\d{1,12})\.(-1|\d{1,12})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
  if (!m) return null;
  const expected = Buffer.from(sign(secretKey, `${m[1]}.${m[2]}.${m[3]}`));
  const given = Buffer.from(m[4]!);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  const pending = { loginId: Number(m[1]), lastStep: Number(m[2]), expiresAt: Number(m[3]) };
  return pending.expiresAt > Date.now() ? pending : null;
}

export function clearTotpPendingCookie(c: Context, policy: CookiePolicy): void {
  deleteCookie(c, nameOf(policy), options(policy));
}
