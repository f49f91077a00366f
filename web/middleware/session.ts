/**
 * Session middleware, reusable by every area (Mail, Options, Manage):
 *  - `loadSession` reads the cookie and sets `viewer` (or null) for every request;
 *  - `requireSession` sends visitors to /login (GET) or refuses with 401 (POST) — a token replayed after
 *    logout lands here, audited;
 *  - `requireFormToken` checks the per-session CSRF token of a form post (403, audited);
 *  - `requireOptionsAccess` refuses restricted and alternate-login sessions (403, audited) on every
 *    request, not only in the UI;
 *  - `requireStepUp` sends a change to the "confirm your password" page unless the main password was
 *    re-entered in the last 5 minutes; the change itself waits there and runs after the confirmation.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { savePendingAction } from '../../src/auth/pending-actions.js';
import { equalSecrets, hasRecentStepUp, validateWebSession, type SessionLookup } from '../../src/auth/web-sessions.js';
import { clearSessionCookie, readSessionCookie, type CookiePolicy } from '../cookies.js';
import type { Viewer, WebEnv } from '../env.js';
import { PosternError } from '../../src/errors.js';
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
        const viewer: Viewer = { session: lookup.session, group: lookup.group };
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

/** A posted form: each field's value, or its values when repeated (checkboxes). */
export type Form = Record<string, string | string[]>;

/**
 * NUL and the other control characters (C0 but tab, line feed and carriage return; DEL; C1): nobody types
 * them, PostgreSQL refuses NUL in text, and they hide things in logs and names.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Reads a urlencoded/multipart form once (hono caches it for the handler). A field name or value with a
 * control character is refused here, for every form, with one sentence (FORM_CONTROL_CHARACTERS, 400),
 * so no handler and no database ever sees one; a body that does not parse is INVALID_INPUT.
 */
export async function readForm(c: Context): Promise<Form> {
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch (e) {
    throw new PosternError('INVALID_INPUT', { message: 'The form could not be read. Reload the page and try again.', cause: e });
  }
  const out: Form = {};
  for (const [k, v] of Object.entries(body)) {
    const values = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
    if (CONTROL_CHARACTERS.test(k) || values.some((x) => CONTROL_CHARACTERS.test(x)))
      throw new PosternError('FORM_CONTROL_CHARACTERS', { context: { field: k.replace(/[^\w-]/g, '?').slice(0, 40) } });
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = values;
  }
  return out;
}

/** One string field (the first when repeated); '' when absent. */
export function field(form: Form, name: string, max = 1024): string {
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

/**
 * Where "confirm your password" returns to and sits under in the sidebar: the page the form belongs to
 * (/options/alt-logins, /manage/7/preferences).
 */
export function sectionOf(path: string): string {
  const all = path.split('/').filter(Boolean);
  const parts = all.slice(0, all[0] === 'manage' ? 3 : 2);
  return `/${parts.join('/')}`;
}

/**
 * A change without a recent step-up is not dropped: the form (less its CSRF token) is kept server-side for
 * this session (src/auth/pending-actions.ts), and the confirm page runs it once the password is confirmed.
 */
export function requireStepUp(): MiddlewareHandler<WebEnv> {
  return async function requireStepUpMiddleware(c, next) {
    const session = viewerOf(c).session;
    if (isSafe(c) || hasRecentStepUp(session)) return next();
    const { _csrf: _token, ...form } = await readForm(c);
    const pending = await savePendingAction(c.get('ctx'), { sessionId: session.id, userId: session.userId, path: c.req.path, form });
    return c.redirect(`/options/confirm?next=${encodeURIComponent(sectionOf(c.req.path))}&pending=${pending}`, 303);
  };
}
