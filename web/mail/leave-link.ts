/**
 * Links in mail open through /mail/leave, which answers with `Referrer-Policy: no-referrer` so the site
 * never learns which webmail page (folder, message UID) the click came from. The destination is signed
 * with the server key so the leave page is not an open redirect for anyone else's links.
 */
import crypto from 'node:crypto';

function sign(secretKey: Buffer, to: string): string {
  return crypto.createHmac('sha256', secretKey).update(`postern leave link v1\n${to}`).digest('base64url').slice(0, 32);
}

export function leaveUrl(secretKey: Buffer, to: string): string {
  return `/mail/leave?${new URLSearchParams({ to, sig: sign(secretKey, to) }).toString()}`;
}

export function verifiedDestination(secretKey: Buffer, to: string, sig: string): string | null {
  if (!/^https?:\/\//i.test(to) || to.length > 4000) return null;
  const expected = sign(secretKey, to);
  const a = Buffer.from(expected);
  const b = Buffer.from(sig);
  return a.length === b.length && crypto.timingSafeEqual(a, b) ? to : null;
}
