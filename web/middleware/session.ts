/**
 * Session middleware, reusable by every area (Mail, Options, Manage):
 *  - `loadSession` reads the cookie and sets `viewer` (or null) for every request;
 *  - `requireSession` sends visitors to /login (GET) or refuses with 401 (POST) — a token replayed after
 *    logout lands here, audited;
 *  - `requireFormToken` checks the per-session CSRF token of a form post (403, audited);
 *  - `requireOptionsAccess` refuses restricted and alternate-login sessions (403, audited) on every
 *    request, not only in the UI;
 *  - `requireStepUp` sends a change to the "confirm your password" page unless the main password was
 *    re-entered in the last 5 minutes.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { findGroupOfUser } from '../../src/accounts/groups.js';
import { equalSecrets, hasRecentStepUp, validateWebSession, type SessionLookup } from '../../src/auth/web-sessions.js';
import { clearSessionCookie, readSessionCookie, type CookiePolicy } from '../cookies.js';
import type { Viewer, WebEnv } from '../env.js';
import { refuse } from '../refusal.js';
import { canUseOptions } from './access.js';

const staleKey = new WeakMap<Request, Extract<SessionLookup, { ok: false }>>();

export function loadSession(policy: CookiePolicy): MiddlewareHandler<WebEnv> {
  return async function loadSessionMiddleware(c, next) {
    c.set('viewer', null);
    const token = readSessionCookie(c, policy);
    if (token) {
      const ctx = c.get('ctx');
      const lookup = await validateWebSession(ctx, token);
      if (lookup.ok) {
        const group = await findGroupOfUser(ctx, lookup.session.userId);
        const viewer: Viewer = {
          session: lookup.session,
          group: group ? { id: group.id, name: group.name, kind: group.kind, allowSms: group.allowSms, isAdmin: group.isAdmin } : null,
        };
        c.set('viewer', viewer);
      } else {
        staleKey.set(c.req.raw, lookup);
        clearSessionCookie(c, policy);
      }
    }
    await next();
  };
}

/** The session of a request that passed `requireSession`. */
export function viewerOf(c: Context<WebEnv>): Viewer {
  const viewer = c.get('viewer');
  if (!viewer) throw new Error('viewerOf() used on a route without requireSession');
  return viewer;
}

function isSafe(c: Context): boolean {
  return c.req.method === 'GET' || c.req.method === 'HEAD';
}

export function requireSession(): MiddlewareHandler<WebEnv> {
  return async function requireSessionMiddleware(c, next) {
    if (c.get('viewer')) return next();
    const stale = staleKey.get(c.req.raw);
    // A presented token that names no live session: a replay after logout, an expired or forged cookie.
    // For a page view that is audited and answered with the login page; a form post is refused (401).
    if (!isSafe(c)) throw await refuse(c, 401, 'session-invalid', stale?.userId ?? null);
    // Garbage that is not even shaped like a token is not worth an audit row.
    if (stale && stale.reason !== 'malformed') await refuse(c, 401, 'session-invalid', stale.userId);
    const reason = stale?.reason === 'idle' || stale?.reason === 'expired' ? '?expired=1' : '';
    return c.redirect(`/login${reason}`, 303);
  };
}

/** Reads a urlencoded/multipart form once (hono caches it for the handler). */
export async function readForm(c: Context): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

/** One string field (the first when repeated); '' when absent. */
export function field(form: Record<string, string | string[]>, name: string, max = 1024): string {
  const v = form[name];
  const s = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  return s.slice(0, max);
}

export function requireFormToken(): MiddlewareHandler<WebEnv> {
  return async function requireFormTokenMiddleware(c, next) {
    if (isSafe(c)) return next();
    const viewer = viewerOf(c);
    const given = field(await readForm(c), '_csrf', 200);
    if (!given || !equalSecrets(given, viewer.session.csrfToken)) throw await refuse(c, 403, 'csrf-token-invalid');
    await next();
  };
}

export function requireOptionsAccess(): MiddlewareHandler<WebEnv> {
  return async function requireOptionsAccessMiddleware(c, next) {
    const s = viewerOf(c).session;
    if (!canUseOptions(s)) throw await refuse(c, 403, s.restricted ? 'restricted-session' : 'alternate-login-session');
    await next();
  };
}

/** Where "confirm your password" returns to: the section page the form belongs to. */
export function sectionOf(path: string): string {
  const parts = path.split('/').filter(Boolean).slice(0, 2);
  return `/${parts.join('/')}`;
}

export function requireStepUp(): MiddlewareHandler<WebEnv> {
  return async function requireStepUpMiddleware(c, next) {
    if (isSafe(c) || hasRecentStepUp(viewerOf(c).session)) return next();
    return c.redirect(`/options/confirm?next=${encodeURIComponent(sectionOf(c.req.path))}`, 303);
  };
}
