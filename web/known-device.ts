/**
 * The owner's known browser: after a successful web login the browser gets a long-lived cookie naming the
 * user, HMAC-signed under a key derived from SECRET_KEY for this purpose. On a later login of that user
 * (and on the step-up, password and code forms) it counts like an address the account has logged in from
 * before: an account under attack does not hold it to the small per-address budget (throttle.ts), so the
 * owner's own laptop gets in from the hotel's network. It exempts from nothing else (the per-pair and
 * per-address delays still apply), and only for the user it names: a cookie forged, signed under another
 * key or issued to another user gives no exemption. Named and flagged like the other cookies (cookies.ts):
 * HttpOnly, SameSite=Lax, Secure and `__Host-` unless PUBLIC_URL is loopback http.
 */
import crypto from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { CookiePolicy } from './cookies.js';

/** How long a browser stays known after its last successful login (each login renews it). */
export const KNOWN_DEVICE_SECONDS = 365 * 24 * 3600;

export function knownDeviceCookieName(policy: CookiePolicy): string {
  return `${policy.secure ? '__Host-' : ''}postern_device`;
}

function sign(secretKey: Buffer, payload: string): string {
  const key = crypto.createHmac('sha256', secretKey).update('postern web known-device cookie v1').digest();
  return crypto.createHmac('sha256', key).update(payload).digest('base64url');
}

/** Marks this browser as known for `userId` (after a successful login). */
export function writeKnownDeviceCookie(c: Context, policy: CookiePolicy, secretKey: Buffer, userId: number): void {
  const expiresAt = Date.now() + KNOWN_DEVICE_SECONDS * 1000;
  const payload = `${userId}.${expiresAt}`;
  setCookie(c, knownDeviceCookieName(policy), `${payload}.${sign(secretKey, payload)}`, {
    path: '/',
    httpOnly: true,
    secure: policy.secure,
    sameSite: 'Lax',
    maxAge: KNOWN_DEVICE_SECONDS,
  });
}

/** The user this browser is known for, when its cookie is genuine and unexpired; else null. */
export function readKnownDevice(c: Context, policy: CookiePolicy, secretKey: Buffer): number | null {
  const raw = getCookie(c, knownDeviceCookieName(policy));
  const m = raw ? /^(\d{1,12})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
  if (!m) return null;
  const expected = Buffer.from(sign(secretKey, `${m[1]}.${m[2]}`));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  return Number(m[2]) > Date.now() ? Number(m[1]) : null;
}

/** Whether this browser is known for `userId`. */
export function isKnownDeviceOf(c: Context, policy: CookiePolicy, secretKey: Buffer, userId: number): boolean {
  return readKnownDevice(c, policy, secretKey) === userId;
}
