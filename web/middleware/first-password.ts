/**
 * First login with an initial password (an administrator created the account and saw that password): the
 * session may do nothing but choose the user's own password, or sign out. Every other page — GET or POST,
 * Mail, Options, Manage — redirects to "Choose your password" without running, so nothing can be read or
 * changed with a password someone else knows. Alternate and restricted sessions are never marked (only
 * the main password may set the main password); see WebSession.mustChoosePassword.
 */
import type { MiddlewareHandler } from 'hono';
import type { WebEnv } from '../env.js';

export const CHOOSE_PASSWORD_PATH = '/choose-password';

/** Paths a marked session may still reach: the page itself, signing out, and logging in as someone else. */
function isAllowed(path: string): boolean {
  return path === CHOOSE_PASSWORD_PATH || path === '/logout' || path === '/login' || path.startsWith('/login/');
}

export function requireChosenPassword(): MiddlewareHandler<WebEnv> {
  return async function requireChosenPasswordMiddleware(c, next) {
    if (!c.get('viewer')?.session.mustChoosePassword || isAllowed(c.req.path)) return next();
    return c.redirect(CHOOSE_PASSWORD_PATH, 303);
  };
}
