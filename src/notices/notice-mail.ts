/**
 * The words of a login notice: which login, how, when, from where and what, the uses since the last
 * notice, and the two answer links. Plain text and a small HTML part (buttons are links; nothing in it
 * runs or loads anything). The client name is whatever the client said (IMAP ID, User-Agent): escaped,
 * stripped of control characters and cut short, never trusted.
 */
import type { AuthMethod } from '../auth/types.js';
import type { SystemMail } from '../submission/system-mail.js';

export const METHOD_NAMES: Record<AuthMethod, string> = {
  main: 'Main password',
  password: 'Alternate password',
  otp: 'One-time code',
  sms: 'SMS password + code',
  app: 'App password',
  totp: 'Password + authenticator app',
};

export interface NoticeUse {
  method: string;
  service: string;
  ip: string | null;
  client: string | null;
  at: Date;
}

export interface NoticeContent {
  to: string;
  label: string;
  recovery: boolean;
  /** Oldest first; the last one is the use the notice is about. */
  uses: NoticeUse[];
  mineUrl: string;
  revokeUrl: string;
}

/** "2026-12-03 16:58 UTC", as the web pages write times. */
export function noticeTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A name a client gave itself, safe to print: no control characters, at most 80 characters. */
export function printable(value: string | null | undefined, fallback: string): string {
  // eslint-disable-next-line no-control-regex
  const v = (value ?? '').replace(/[\u0000-\u001F\u007F-\u009F]+/g, ' ').trim();
  return v ? (v.length > 80 ? `${v.slice(0, 79)}…` : v) : fallback;
}

function methodName(method: string, recovery: boolean): string {
  if (recovery) return 'Recovery list (one-time code)';
  return method in METHOD_NAMES ? METHOD_NAMES[method as AuthMethod] : method;
}

const SERVICE_NAMES: Record<string, string> = { web: 'Web', imap: 'IMAP (mail program)', smtp: 'SMTP (sending mail)' };

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function composeNotice(n: NoticeContent): SystemMail {
  const latest = n.uses.at(-1)!;
  const earlier = n.uses.slice(0, -1);
  const label = printable(n.label, 'a login');
  const facts: Array<[string, string]> = [
    ['Login', label],
    ['Method', methodName(latest.method, n.recovery)],
    ['Time', noticeTime(latest.at)],
    ['Client address', printable(latest.ip, 'unknown')],
    ['Client', printable(latest.client, 'unknown')],
    ['Service', SERVICE_NAMES[latest.service] ?? latest.service],
  ];
  const more = earlier.length
    ? `and ${earlier.length} more use${earlier.length === 1 ? '' : 's'} since ${noticeTime(earlier[0]!.at)}`
    : null;
  const earlierLines = earlier
    .slice(-10)
    .map((u) => `${noticeTime(u.at)}  ${printable(u.ip, 'unknown address')}  ${printable(u.client, 'unknown client')}`);
  const text = [
    `Your login "${label}" was just used to open a Postern session.`,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    ...(more ? ['', `${more[0]!.toUpperCase()}${more.slice(1)}:`, ...earlierLines] : []),
    '',
    'This was me:',
    n.mineUrl,
    '',
    "This wasn't me: revoke this login and end its sessions:",
    n.revokeUrl,
    '',
    'Each link leads to a page where you confirm; it works once, for 7 days.',
    'You can choose which logins send these notices under Options → Security.',
  ].join('\n');
  const button = (href: string, words: string, color: string) =>
    `<a href="${escapeHtml(href)}" style="display:inline-block;padding:10px 16px;margin:4px 8px 4px 0;border-radius:4px;background:${color};color:#fff;text-decoration:none">${escapeHtml(words)}</a>`;
  const html = [
    `<p>Your login <strong>${escapeHtml(label)}</strong> was just used to open a Postern session.</p>`,
    `<table>${facts.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`,
    more ? `<p>${escapeHtml(more)}:</p><ul>${earlierLines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '',
    `<p>${button(n.mineUrl, 'This was me', '#2d6a2d')}${button(n.revokeUrl, "This wasn't me: revoke this login and end its sessions", '#a02020')}</p>`,
    '<p>Each link leads to a page where you confirm; it works once, for 7 days. You can choose which logins send these notices under Options → Security.</p>',
  ].join('\n');
  const subject = `Postern: your login "${label}" was used${more ? ` (${earlier.length + 1} uses)` : ''}`;
  return { to: n.to, subject, text, html };
}
