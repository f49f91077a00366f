/**
 * Cookie names and attributes, decided once from PUBLIC_URL.
 *
 * Production (https): `__Host-postern_session`, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain —
 * the `__Host-` prefix makes browsers enforce exactly that. Development over plain http is allowed only
 * when PUBLIC_URL is a loopback address (localhost, 127.0.0.1, [::1]): browsers reject `__Host-` cookies
 * without Secure, so there the cookie is named `postern_session` and is not Secure. Any other http
 * PUBLIC_URL still gets the Secure `__Host-` cookie: the browser will not send it back over http, so the
 * site fails closed instead of leaking sessions in clear.
 *
 * Lax rather than Strict: a link from a mail to Postern should open the logged-in page; every
 * state-changing request is a POST, which Lax does not send cross-site, and is checked for origin and
 * token anyway.
 */
import crypto from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../src/config.js';

export interface CookiePolicy {
  secure: boolean;
  sessionName: string;
  pendingName: string;
  smsWindowName: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Whether PUBLIC_URL is plain http on a loopback address (development). */
export function isLoopbackHttp(publicUrl: string): boolean {
  const u = new URL(publicUrl);
  return u.protocol === 'http:' && LOOPBACK.has(u.hostname);
}

export function cookiePolicy(config: Pick<Config, 'PUBLIC_URL'>): CookiePolicy {
  const secure = !isLoopbackHttp(config.PUBLIC_URL);
  const prefix = secure ? '__Host-' : '';
  return { secure, sessionName: `${prefix}postern_session`, pendingName: `${prefix}postern_pending`, smsWindowName: `${prefix}postern_sms_window` };
}

function baseOptions(policy: CookiePolicy) {
  return { path: '/', httpOnly: true, secure: policy.secure, sameSite: 'Lax' as const };
}

export function readSessionCookie(c: Context, policy: CookiePolicy): string | undefined {
  return getCookie(c, policy.sessionName);
}

/**
 * A session cookie without Max-Age: it dies when the browser closes (what a kiosk wants); the server's
 * idle and absolute limits apply regardless.
 */
export function writeSessionCookie(c: Context, policy: CookiePolicy, token: string): void {
  setCookie(c, policy.sessionName, token, baseOptions(policy));
}

export function clearSessionCookie(c: Context, policy: CookiePolicy): void {
  deleteCookie(c, policy.sessionName, baseOptions(policy));
}

/**
 * The pre-login state between "SMS password accepted" and "code typed": the challenge id and an expiry,
 * HMAC-signed under a key derived from SECRET_KEY. Challenge ids are sequential, so an unsigned id would
 * let anyone type codes against another person's challenge.
 */
export interface PendingLogin {
  challengeId: number;
  expiresAt: number;
}

function cookieKey(secretKey: Buffer, purpose: string): Buffer {
  return crypto.createHmac('sha256', secretKey).update(`postern web ${purpose} cookie v1`).digest();
}

function sign(secretKey: Buffer, payload: string, purpose = 'pending-login'): string {
  return crypto.createHmac('sha256', cookieKey(secretKey, purpose)).update(payload).digest('base64url');
}

export function writePendingCookie(c: Context, policy: CookiePolicy, secretKey: Buffer, pending: PendingLogin): void {
  const payload = `${pending.challengeId}.${pending.expiresAt}`;
  const maxAge = Math.max(1, Math.ceil((pending.expiresAt - Date.now()) / 1000));
  setCookie(c, policy.pendingName, `${payload}.${sign(secretKey, payload)}`, { ...baseOptions(policy), maxAge });
}

export function readPendingCookie(c: Context, policy: CookiePolicy, secretKey: Buffer): PendingLogin | null {
  const raw = getCookie(c, policy.pendingName);
  const m = raw ? /^(\d{1,12})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
  if (!m) return null;
  const expected = Buffer.from(sign(secretKey, `${m[1]}.${m[2]}`));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  const pending = { challengeId: Number(m[1]), expiresAt: Number(m[2]) };
  return pending.expiresAt > Date.now() ? pending : null;
}

export function clearPendingCookie(c: Context, policy: CookiePolicy): void {
  deleteCookie(c, policy.pendingName, baseOptions(policy));
}

/**
 * A 1-hour SMS password's window, remembered by the browser that typed its code: a new sign-in there
 * with the SMS password sends no new SMS until the window ends (issue 17). Signed like the pending cookie
 * (under its own key); the server still checks the window is open and belongs to the SMS password typed.
 * It outlives a sign-out on purpose, and dies with the window.
 */
export interface SmsWindow {
  challengeId: number;
  expiresAt: number;
}

export function writeSmsWindowCookie(c: Context, policy: CookiePolicy, secretKey: Buffer, window: SmsWindow): void {
  const payload = `${window.challengeId}.${window.expiresAt}`;
  const maxAge = Math.max(1, Math.ceil((window.expiresAt - Date.now()) / 1000));
  setCookie(c, policy.smsWindowName, `${payload}.${sign(secretKey, payload, 'sms-window')}`, { ...baseOptions(policy), maxAge });
}

export function readSmsWindowCookie(c: Context, policy: CookiePolicy, secretKey: Buffer): SmsWindow | null {
  const raw = getCookie(c, policy.smsWindowName);
  const m = raw ? /^(\d{1,12})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
  if (!m) return null;
  const expected = Buffer.from(sign(secretKey, `${m[1]}.${m[2]}`, 'sms-window'));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  const window = { challengeId: Number(m[1]), expiresAt: Number(m[2]) };
  return window.expiresAt > Date.now() ? window : null;
}
